"""Matrix 5: brute force on POST /login — per user name and per IP, growing lock-out,
429 with Retry-After, the same answer for unknown users, audit rows with the IP."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from tests.conftest import PASSWORD, make_app


def _user(app, username: str = "victim"):  # type: ignore[no-untyped-def]
    from helpdesk.users import services as users

    user = users.create_user(None, username=username, password=PASSWORD, role="user")
    db.session.commit()
    return user


def _attempts(client, username: str, n: int, password: str = "wrong-password-1") -> list:  # type: ignore[no-untyped-def]
    return [client.login(username, password) for _ in range(n)]


def _assert_locked(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 86400
    assert b"Too many sign-in attempts" in response.data
    return retry


def test_twenty_wrong_passwords_lock_out_even_the_right_one(limited_app):  # type: ignore[no-untyped-def]
    _user(limited_app)
    client = limited_app.test_client()
    answers = _attempts(client, "victim", 20)
    codes = [r.status_code for r in answers]
    assert codes[:5] == [401] * 5, codes
    assert set(codes[5:]) == {429}, codes
    _assert_locked(answers[-1])
    # the right password during the lock-out is refused too, with the same answer
    right = client.login("victim", PASSWORD)
    _assert_locked(right)
    assert "session" not in right.headers.get("Set-Cookie", "") or b"_user_id" not in right.data
    assert client.get("/").status_code == 302  # still signed out
    # the lock-out is in the audit log, with the IP
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "auth.locked_out")).all()
    assert rows and all(r.ip == "127.0.0.1" for r in rows)
    failed = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "auth.login_failed")
    ).all()
    assert len(failed) == 5 and all(r.ip == "127.0.0.1" for r in failed)


def test_unknown_user_gets_the_same_answers(limited_app):  # type: ignore[no-untyped-def]
    _user(limited_app)
    known = _attempts(limited_app.test_client(), "victim", 7)
    unknown = _attempts(limited_app.test_client(), "nobody-here", 7)
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    # same page apart from the CSRF token
    assert b"Wrong user name or password." in known[0].data
    assert b"Wrong user name or password." in unknown[0].data
    _assert_locked(known[-1])
    _assert_locked(unknown[-1])


def test_lockout_is_per_username_across_ips_and_per_ip_across_usernames(limited_app):  # type: ignore[no-untyped-def]
    _user(limited_app, "victim")
    _user(limited_app, "other")
    # one user name attacked from many IPs
    for i in range(5):
        c = limited_app.test_client()
        r = c.post(
            "/login",
            data={"username": "Victim", "password": "nope-nope"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        )
        assert r.status_code == 401
    c = limited_app.test_client()
    r = c.post(
        "/login",
        data={"username": "victim", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    _assert_locked(r)
    # another user still signs in from a fresh IP
    c = limited_app.test_client()
    r = c.post(
        "/login",
        data={"username": "other", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert r.status_code == 302
    # one IP spraying many user names: stopped by the per-IP limit
    c = limited_app.test_client()
    codes = [
        c.post(
            "/login",
            data={"username": f"spray{i}", "password": "nope-nope"},
            environ_base={"REMOTE_ADDR": "10.0.2.2"},
        ).status_code
        for i in range(25)
    ]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}, codes


def test_lockout_grows(limited_app):  # type: ignore[no-untyped-def]
    """Hammering during a lock-out turns the minute into the rest of the hour."""
    _user(limited_app)
    client = limited_app.test_client()
    first = _assert_locked(_attempts(client, "victim", 6)[-1])
    assert first <= 61
    answers = _attempts(client, "victim", 12)
    longer = _assert_locked(answers[-1])
    assert longer > 61, (first, longer)


def test_successful_logins_do_not_count(limited_app):  # type: ignore[no-untyped-def]
    _user(limited_app)
    for _ in range(8):
        client = limited_app.test_client()
        assert client.login("victim").status_code == 302


def test_json_client_gets_429_json(limited_app):  # type: ignore[no-untyped-def]
    _user(limited_app)
    client = limited_app.test_client()
    _attempts(client, "victim", 5)
    r = client.post(
        "/login",
        data={"username": "victim", "password": "x"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 429 and r.is_json and r.json["error"] == 429
    assert int(r.headers["Retry-After"]) >= 1


def test_redis_storage(database, tmp_path):  # type: ignore[no-untyped-def]
    """With REDIS_URL the counters live in Redis (shared by every worker)."""
    redis = pytest.importorskip("redis")
    client_r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        client_r.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"hdtest-{uuid.uuid4().hex[:10]}"
    app = make_app(
        database,
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
        RATELIMIT_KEY_PREFIX=prefix,
    )
    try:
        with app.app_context():
            db.create_all()
            _user(app)
            client = app.test_client()
            answers = _attempts(client, "victim", 6)
            assert [r.status_code for r in answers] == [401] * 5 + [429]
            _assert_locked(answers[-1])
            assert client_r.keys(f"*{prefix}*"), "no limiter keys in Redis"
            # a second app (another worker) sharing Redis sees the same lock-out
            other = make_app(
                database,
                tmp_path,
                RATELIMIT_ENABLED=True,
                RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                RATELIMIT_KEY_PREFIX=prefix,
            )
            _assert_locked(other.test_client().login("victim"))
            db.session.remove()
            db.engine.dispose()
    finally:
        for key in client_r.scan_iter(f"*{prefix}*"):
            client_r.delete(key)
