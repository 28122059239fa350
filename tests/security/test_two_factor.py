"""Matrix 9: two-factor sign-in (TOTP + recovery codes) through the real pages: enrolment
needs the password, sign-in needs the code after it, codes work once (no replay), drift
is one step either way, wrong codes are limited per account, staff can be required to
enrol (pages and the socket stay shut until they do), and an admin's reset is audited."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditLog
from helpdesk.db import utcnow
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.twofactor import services as twofactor
from helpdesk.twofactor.models import RecoveryCode, TotpSecret
from tests.conftest import PASSWORD
from tests.realtime.helpers import socket_for


def _enrol(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Through the pages; returns the secret and the recovery codes shown."""
    started = client.post("/account/two-factor/setup", data={"current_password": PASSWORD})
    assert started.status_code == 303, started.status_code
    page = client.get("/account/two-factor/confirm").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn here
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    done = client.post("/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", done.get_data(as_text=True))
    return secret, codes


def _password_step(app, username: str = "alice"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    answer = client.login(username)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/two-factor")
    return client


def test_enrolment_needs_the_password_and_keeps_only_hashes(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    wrong = client.post("/account/two-factor/setup", data={"current_password": "nope-nope"})
    assert wrong.status_code == 400 and b"current password is not right" in wrong.data
    secret, codes = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert twofactor.is_enabled(people["user"])


def test_sign_in_asks_for_the_code_after_the_password(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    secret, _codes = _enrol(client)
    half = _password_step(app)
    assert half.get("/").status_code == 302  # not signed in yet
    assert half.get("/login/two-factor").status_code == 200
    assert half.post("/login/two-factor", data={"code": "123456"}).status_code == 400
    # enrolment just used this step's code: the next step's is still within the drift
    code = pyotp.TOTP(secret).at(time.time() + 30)
    done = half.post("/login/two-factor", data={"code": code})
    assert done.status_code == 302
    assert half.get("/").status_code == 200
    # the same code again, in another sign-in within its window: refused
    again = _password_step(app)
    assert again.post("/login/two-factor", data={"code": code}).status_code == 400
    assert again.get("/").status_code == 302


def test_drift_is_one_step_and_codes_are_single_use(app, people):  # type: ignore[no-untyped-def]
    alice = people["user"]
    row = TotpSecret(
        user_id=alice.id, secret=pyotp.random_base32(), last_step=0, confirmed_at=utcnow()
    )
    db.session.add(row)
    db.session.commit()
    totp, now = pyotp.TOTP(row.secret), 1_900_000_000.0
    for offset, ok in ((-60, False), (60, False), (-30, True), (0, True), (30, True)):
        code = totp.at(now + offset)
        if ok:
            assert twofactor.verify_sign_in(alice, code, at=now) == "totp", offset
        else:
            with pytest.raises(InvalidInput):
                twofactor.verify_sign_in(alice, code, at=now)
    with pytest.raises(InvalidInput):  # every step in the window is used up now
        twofactor.verify_sign_in(alice, totp.at(now), at=now)


def test_recovery_code_signs_in_once(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    _secret, codes = _enrol(client)
    half = _password_step(app)
    assert half.post("/login/two-factor", data={"code": codes[0].upper()}).status_code == 302
    assert twofactor.remaining_recovery_codes(people["user"]) == 9
    again = _password_step(app)
    assert again.post("/login/two-factor", data={"code": codes[0]}).status_code == 400


def test_wrong_codes_are_limited_per_account(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    secret, _codes = _enrol(client)
    for i in range(5):
        half = _password_step(app)
        assert half.post("/login/two-factor", data={"code": f"00000{i}"}).status_code == 400
    half = _password_step(app)
    locked = half.post("/login/two-factor", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert b"Too many wrong codes" in locked.data
    assert half.get("/").status_code == 302


def test_regenerate_and_disable_need_the_password(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    _secret, old = _enrol(client)
    assert (
        client.post(
            "/account/two-factor/recovery-codes", data={"current_password": "wrong-one"}
        ).status_code
        == 400
    )
    fresh = client.post("/account/two-factor/recovery-codes", data={"current_password": PASSWORD})
    new = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", fresh.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert (
        client.post(
            "/account/two-factor/disable", data={"current_password": "wrong-one"}
        ).status_code
        == 400
    )
    assert twofactor.is_enabled(people["user"])
    assert (
        client.post("/account/two-factor/disable", data={"current_password": PASSWORD}).status_code
        == 302
    )
    assert not twofactor.is_enabled(people["user"])


def test_staff_required_to_enrol_reach_nothing_else(app, client, people):  # type: ignore[no-untyped-def]
    boss = app.test_client()
    boss.login("boss")
    saved = boss.post("/admin/two-factor", data={"required": "y"})
    assert saved.status_code == 302 and twofactor.staff_required()
    boss_page = boss.get("/tickets")
    assert boss_page.status_code == 302 and boss_page.headers["Location"].endswith(
        "/account/two-factor"
    )
    tech = app.test_client()
    assert tech.login("tech").status_code == 302
    for path in ("/", "/tickets", "/chat", "/reports"):
        answer = tech.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].endswith("/account/two-factor"), path
    assert (
        tech.get("/notifications/count", headers={"Accept": "application/json"}).status_code == 403
    )
    sc = socket_for(app, tech)
    assert not sc.is_connected()
    # a user is not staff: not affected
    assert client.login("alice").status_code == 302 and client.get("/tickets").status_code == 200
    # once enrolled, everything opens, and it cannot be turned off while required
    _enrol(tech)
    assert tech.get("/tickets").status_code == 200
    assert socket_for(app, tech).is_connected()
    refused = tech.post("/account/two-factor/disable", data={"current_password": PASSWORD})
    assert refused.status_code == 403


def test_admin_reset_is_audited_and_ends_the_sessions(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    _enrol(client)
    boss = app.test_client()
    boss.login("boss")
    user_id = people["user"].id
    assert boss.post(f"/admin/users/{user_id}/two-factor/reset").status_code == 302
    db.session.expire_all()
    assert not twofactor.is_enabled(people["user"])
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "2fa.reset"))
    assert row is not None and row.actor_id == people["admin"].id and row.target_id == user_id
    assert client.get("/").status_code == 302  # signed out
    assert app.test_client().login("alice").headers["Location"].endswith("/")  # no code asked
    # a technician cannot reset anyone's
    tech = app.test_client()
    tech.login("tech")
    assert tech.post(f"/admin/users/{user_id}/two-factor/reset").status_code == 403


def test_pending_step_expires(app, client, people, monkeypatch):  # type: ignore[no-untyped-def]
    client.login("alice")
    secret, _ = _enrol(client)
    half = _password_step(app)
    later = time.time() + 301
    monkeypatch.setattr("helpdesk.twofactor.views.time.time", lambda: later)
    answer = half.post("/login/two-factor", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert half.get("/").status_code == 302
