"""Passwords: Argon2id at OWASP's parameters, rehash on login, the policy (length, no
truncation, unicode, the shipped common-password list), change-password page and the
forced change after an admin reset or for a default admin."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.security.passwords import (
    MAX_LENGTH,
    check_password_policy,
    common_passwords,
    hash_password,
    verify_password,
)
from helpdesk.users.models import User
from tests.conftest import PASSWORD


def test_argon2id_owasp_parameters():  # type: ignore[no-untyped-def]
    params = extract_parameters(hash_password("Some-password-1"))
    assert params.type.name == "ID"
    assert params.memory_cost >= 19456 and params.time_cost >= 2 and params.parallelism >= 1


def test_common_password_list_is_shipped():  # type: ignore[no-untyped-def]
    words = common_passwords()
    assert len(words) >= 10_000
    for word in ("password", "12345678", "qwertyuiop", "iloveyou"):
        assert word in words


@pytest.mark.parametrize(
    ("password", "admin", "ok"),
    [
        ("short1!", False, False),
        ("eight-ch", False, True),
        ("eleven-char", True, False),  # administrators need 12
        ("twelve-chars", True, True),
        ("x" * MAX_LENGTH, False, True),
        ("x" * (MAX_LENGTH + 1), False, False),
        ("contraseña-ñandú-🙂", False, True),
        ("パスワードパスワード", False, True),
        ("password", False, False),
        ("PassWord1", False, False)
        if "password1" in common_passwords()
        else ("Pass-w0rd-ok", False, True),
        ("qwertyuiop", False, False),
        ("alice-the-user", False, True),
    ],
)
def test_policy(password, admin, ok):  # type: ignore[no-untyped-def]
    if ok:
        check_password_policy(password, admin=admin)
    else:
        with pytest.raises(InvalidInput):
            check_password_policy(password, admin=admin)


def test_password_equal_to_username_is_refused():  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        check_password_policy("alice-example", username="Alice-Example")


def test_no_truncation():  # type: ignore[no-untyped-def]
    long = "a" * 100 + "-tail-1"
    stored = hash_password(long)
    assert verify_password(stored, long)
    assert not verify_password(stored, long[:-1] + "2")
    assert not verify_password(stored, "a" * 100)


def test_rehash_on_login_when_parameters_change(app, client, make_user):  # type: ignore[no-untyped-def]
    user = make_user("user", "old-hash")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user.password_hash = weak
    db.session.commit()
    assert client.login("old-hash").status_code == 302
    db.session.refresh(user)
    params = extract_parameters(user.password_hash)
    assert user.password_hash != weak and params.memory_cost >= 19456 and params.time_cost >= 2
    assert verify_password(user.password_hash, PASSWORD)


def test_change_password_page(app, people):  # type: ignore[no-untyped-def]
    client, other = app.test_client(), app.test_client()
    client.login("alice")
    other.login("alice")
    page = client.get("/account/password")
    assert page.status_code == 200
    bad = client.post(
        "/account/password",
        data={
            "current_password": "wrong",
            "new_password": "New-pass-phrase-1",
            "confirm": "New-pass-phrase-1",
        },
    )
    assert b"current password is not right" in bad.data
    common = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "password", "confirm": "password"},
    )
    assert b"too common" in common.data or b"at least" in common.data
    ok = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "New-pass-phrase-1",
            "confirm": "New-pass-phrase-1",
        },
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert other.get("/").status_code == 302  # every other session ended
    fresh = app.test_client()
    assert fresh.login("alice").status_code == 401
    assert fresh.login("alice", "New-pass-phrase-1").status_code == 302


def test_forced_change_for_default_admin(app, client):  # type: ignore[no-untyped-def]
    from helpdesk.users.services import create_user

    create_user(
        None,
        username="admin",
        password="admin123",
        role="admin",
        must_change_password=True,
        check_policy=False,
    )
    db.session.commit()
    r = client.login("admin", "admin123")
    assert r.headers["Location"].endswith("/account/password")
    for path in ("/", "/tickets", "/admin/users", "/admin/audit"):
        assert client.get(path).headers["Location"].endswith("/account/password"), path
    json = client.get("/tickets", headers={"Accept": "application/json"})
    assert json.status_code == 403
    r = client.post(
        "/account/password",
        data={
            "current_password": "admin123",
            "new_password": "short-admin",
            "confirm": "short-admin",
        },
    )
    assert b"at least 12" in r.data  # admins need 12 characters
    r = client.post(
        "/account/password",
        data={
            "current_password": "admin123",
            "new_password": "A-long-secret-phrase",
            "confirm": "A-long-secret-phrase",
        },
    )
    assert r.status_code == 302
    assert client.get("/admin/users").status_code == 200
    admin = db.session.scalars(db.select(User).where(User.username == "admin")).one()
    db.session.refresh(admin)
    assert not admin.must_change_password
