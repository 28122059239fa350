"""Matrix 6: sessions — fixation, idle expiry and absolute lifetime (the clock is moved
through `helpdesk.auth.session.clock`), cookie reuse after logout, 401 JSON for fetch,
keep-alive, cookie flags in production."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from helpdesk.auth import session as auth_session
from tests.conftest import PASSWORD, make_app


class Clock:
    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        import time

        self.now = time.time()
        monkeypatch.setattr(auth_session, "clock", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch)


def _session_cookie(client) -> str:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie("session")
    return cookie.value if cookie else ""


def test_session_id_changes_at_login(client, people):  # type: ignore[no-untyped-def]
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-value"
    before = _session_cookie(client)
    assert client.login("alice").status_code == 302
    after = _session_cookie(client)
    assert before and after and before != after
    with client.session_transaction() as sess:
        assert "planted" not in sess  # the pre-login session contents are dropped
        assert len(sess["sid"]) == 64  # a fresh server-side session id
        first_sid = sess["sid"]
    client.post("/logout")
    client.login("alice")
    with client.session_transaction() as sess:
        assert sess["sid"] != first_sid


def test_fixated_cookie_from_before_login_is_useless(app, people):  # type: ignore[no-untyped-def]
    attacker = app.test_client()
    attacker.get("/login")
    planted = _session_cookie(attacker)
    victim = app.test_client()
    victim.set_cookie("session", planted)
    victim.login("alice")
    # the attacker's copy of the pre-login cookie is still anonymous
    attacker.set_cookie("session", planted)
    assert attacker.get("/").status_code == 302


def test_idle_timeout(app, client, people, clock):  # type: ignore[no-untyped-def]
    client.login("alice")
    idle = app.config["SESSION_TIMEOUT_MINUTES"] * 60
    clock.advance(idle - 5)
    assert client.get("/").status_code == 200  # activity refreshes the idle clock
    clock.advance(idle - 5)
    assert client.get("/").status_code == 200
    clock.advance(idle + 1)
    r = client.get("/tickets")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    page = client.get(r.headers["Location"])
    assert b"Your session expired" in page.data
    assert client.get("/").status_code == 302  # really signed out


def test_passive_requests_do_not_extend_the_session(app, client, people, clock):  # type: ignore[no-untyped-def]
    client.login("alice")
    idle = app.config["SESSION_TIMEOUT_MINUTES"] * 60
    for _ in range(3):
        clock.advance(idle / 3 - 1)
        client.get("/healthz")
        client.get("/tickets", headers={"X-Session-Passive": "1"})
    clock.advance(5)
    assert client.get("/").status_code == 302


def test_expired_session_answers_fetch_with_401_json(app, client, people, clock):  # type: ignore[no-untyped-def]
    client.login("alice")
    clock.advance(app.config["SESSION_TIMEOUT_MINUTES"] * 60 + 1)
    r = client.post(
        "/session/keepalive",
        headers={"X-Requested-With": "XMLHttpRequest", "X-CSRFToken": client.csrf_token()},
    )
    assert r.status_code == 401 and r.is_json and r.json["error"] == 401
    # anonymous fetch too: JSON, not a redirect or half a page
    r = client.get("/tickets", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.is_json


def test_absolute_lifetime(app, client, people, clock):  # type: ignore[no-untyped-def]
    client.login("alice")
    idle = app.config["SESSION_TIMEOUT_MINUTES"] * 60
    absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    steps = absolute // (idle - 10)
    for _ in range(steps):
        clock.advance(idle - 10)
        client.post("/session/keepalive", headers={"X-CSRFToken": client.csrf_token()})
    clock.advance(idle - 10)
    r = client.get("/")
    assert r.status_code == 302, "the session outlived SESSION_ABSOLUTE_HOURS"


def test_keepalive_extends_and_reports(app, client, people, clock):  # type: ignore[no-untyped-def]
    client.login("alice")
    idle = app.config["SESSION_TIMEOUT_MINUTES"] * 60
    clock.advance(idle - 30)
    r = client.post(
        "/session/keepalive",
        headers={"X-CSRFToken": client.csrf_token(), "X-Requested-With": "XMLHttpRequest"},
    )
    assert r.status_code == 200
    assert r.json["idle_remaining"] == idle
    assert 0 < r.json["absolute_remaining"] <= app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    clock.advance(idle - 30)
    assert client.get("/").status_code == 200


def test_keepalive_needs_csrf_and_post(client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    assert client.post("/session/keepalive", csrf=False).status_code == 400
    assert client.get("/session/keepalive").status_code == 405


def test_cookie_reuse_after_logout_is_refused(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    stolen = _session_cookie(client)
    assert client.get("/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    r = thief.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = thief.get("/tickets", headers={"Accept": "application/json"})
    assert r.status_code == 401


def test_logout_in_one_browser_keeps_the_other(app, people):  # type: ignore[no-untyped-def]
    laptop, phone = app.test_client(), app.test_client()
    laptop.login("alice")
    phone.login("alice")
    laptop.post("/logout")
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 302


def test_logout_is_post_only(client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    assert client.post("/logout", csrf=False).status_code == 400  # CSRF-protected
    assert client.get("/").status_code == 200


def test_password_reset_ends_other_sessions(app, people):  # type: ignore[no-untyped-def]
    victim, admin = app.test_client(), app.test_client()
    victim.login("alice")
    admin.login("boss")
    r = admin.post(
        f"/admin/users/{people['user'].id}/password",
        data={"reset-password": "Temporary-Pass-123"},
    )
    assert r.status_code == 302
    assert victim.get("/").status_code == 302
    # and the user must choose a new password at next sign-in
    r = victim.login("alice", "Temporary-Pass-123")
    assert r.headers["Location"].endswith("/account/password")
    assert victim.get("/tickets").headers["Location"].endswith("/account/password")


def _cookie_flags(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            parsed = SimpleCookie()
            parsed.load(header)
            morsel = parsed["session"]
            lowered = header.lower()
            return {
                "httponly": "httponly" in lowered,
                "secure": "; secure" in lowered,
                "samesite": morsel["samesite"],
            }
    raise AssertionError("no session cookie set")


def test_cookie_flags_in_production(database, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from helpdesk.config import load_settings
    from helpdesk.extensions import db

    settings = load_settings(
        {"HELPDESK_ENV": "production", "SECRET_KEY": "p" * 40, "DATABASE_URL": database.url}
    )
    config = settings.flask_config()
    assert config["SESSION_COOKIE_SECURE"] is True
    app = make_app(
        database,
        tmp_path,
        HELPDESK_ENV="production",
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
    )
    with app.app_context():
        db.create_all()
        from helpdesk.users import services as users

        users.create_user(None, username="alice", password=PASSWORD)
        db.session.commit()
        client = app.test_client()
        page = client.get("/login", base_url="https://localhost")
        token = page.data.split(b'name="csrf-token" content="')[1].split(b'"')[0].decode()
        r = client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": token},
            base_url="https://localhost",
            headers={"Referer": "https://localhost/login"},  # Flask-WTF's strict HTTPS check
        )
        assert r.status_code == 302, r.data[:300]
        flags = _cookie_flags(r)
        assert flags == {"httponly": True, "secure": True, "samesite": "Lax"}
        assert "max-age=31536000" in r.headers["Strict-Transport-Security"]
        db.session.remove()
        db.engine.dispose()


def test_cookie_flags_in_development(client, people):  # type: ignore[no-untyped-def]
    flags = _cookie_flags(client.login("alice"))
    assert flags["httponly"] and flags["samesite"] == "Lax"


def test_copied_cookie_cannot_open_a_socket_after_logout(app, client, people):  # type: ignore[no-untyped-def]
    from tests.realtime.helpers import socket_for

    client.login("alice")
    stolen = _session_cookie(client)
    live = socket_for(app, client)
    assert live.is_connected()
    live.disconnect()
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    refused = socket_for(app, thief)
    assert not refused.is_connected()
