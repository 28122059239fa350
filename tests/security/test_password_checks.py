"""Matrix 5c: every place that checks a signed-in person's password again counts wrong
answers per account (429 past the limit, the right password included), and new
passwords may not contain the person's or the desk's own words."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditLog
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.security.passwords import check_password_policy
from helpdesk.users import services as users
from tests.conftest import PASSWORD

NEW = "Brand-New-Pass-42"


def _change(client, current: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": NEW, "confirm": NEW},
    )


def test_current_password_guessing_is_limited(app, client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    codes = [_change(client, f"guess-{i}").status_code for i in range(25)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}, codes
    locked = _change(client, PASSWORD)  # the right one too, while locked
    assert locked.status_code == 429 and 1 <= int(locked.headers["Retry-After"]) <= 900
    assert b"Too many wrong passwords" in locked.data
    db.session.expire_all()
    assert users.find_by_username("alice").password_hash == people["user"].password_hash
    failed = db.session.scalar(
        select(func.count(AuditLog.id)).where(AuditLog.action == "auth.password_check_failed")
    )
    assert failed == 5
    # another person is not affected by alice's count
    other = app.test_client()
    other.login("bob")
    assert _change(other, PASSWORD).status_code == 302


def test_the_count_is_per_account_across_sessions(app, people):  # type: ignore[no-untyped-def]
    for i in range(5):
        c = app.test_client()
        c.login("alice")
        assert _change(c, f"guess-{i}").status_code == 200
    fresh = app.test_client()
    fresh.login("alice")
    assert _change(fresh, PASSWORD).status_code == 429


@pytest.mark.parametrize(
    ("password", "username", "email"),
    [
        ("helpdesk123", "alice", None),
        ("MyHelpDesk-2026", "alice", None),
        ("user2user2", "user2", None),
        ("xx-ALICE-xx-99", "alice", None),
        ("ｕｓｅｒ２-secret", "user2", None),
        ("carol.perez!2026", "cp", "carol.perez@example.org"),
        ("soporte-2026!", "alice", None),
    ],
)
def test_context_words_are_refused(app, password, username, email):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        check_password_policy(password, username=username, email=email)
    # the message names the word (in whichever language the context speaks)
    words = ("helpdesk", "user2", "alice", "carol.perez", "soporte")
    assert any(word in caught.value.message for word in words), caught.value.message


def test_organisation_words_from_config(app):  # type: ignore[no-untyped-def]
    app.config["PASSWORD_CONTEXT_WORDS"] = ("Acme", "Springfield")
    with pytest.raises(InvalidInput):
        check_password_policy("acme-rocks-2026", username="alice")
    check_password_policy("Corr3ct-Horse-Battery", username="alice")


def test_context_words_apply_where_passwords_are_set(app, people):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        users.create_user(None, username="user2", password="user2user2")
    with pytest.raises(InvalidInput):
        users.reset_password(people["admin"], people["user"], "alice-temporary-1")
    with pytest.raises(InvalidInput):
        users.change_password(people["user"], PASSWORD, "helpdesk-2026-x")
