"""`helpdesk check-system --production` names every unsafe production setting."""

from __future__ import annotations

from helpdesk.cli import DEFAULT_ADMIN_PASSWORD, check_system
from helpdesk.extensions import db
from tests.conftest import worker_reported

SAFE_ENV = {
    "SECRET_KEY": "s" * 64,
    "WEB_CONCURRENCY": "1",
    "HELPDESK_PROCESSES": "",
    "FLASK_DEBUG": "",
}


def _run(app, monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    for key, value in {**SAFE_ENV, **env}.items():
        monkeypatch.setenv(key, value)
    return app.test_cli_runner().invoke(check_system, ["--production"])


def _safe(app) -> None:  # type: ignore[no-untyped-def]
    worker_reported(app)
    app.config.update(
        HELPDESK_ENV="production",
        DEBUG=False,
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        RATELIMIT_ENABLED=True,
    )


def test_safe_settings_pass(app, monkeypatch, make_user):  # type: ignore[no-untyped-def]
    make_user("admin", "admin", password="A-strong-secret-passphrase")
    _safe(app)
    result = _run(app, monkeypatch)
    # the test schema comes from create_all, not the migrations: that line may fail
    failures = [
        line
        for line in result.output.splitlines()
        if line.startswith("FAIL") and "migrations" not in line
    ]
    assert failures == [], result.output


def test_each_unsafe_setting_is_named(app, monkeypatch, make_user):  # type: ignore[no-untyped-def]
    cases = [
        ({"DEBUG": True}, {}, "FAIL debug off"),
        ({}, {"FLASK_DEBUG": "1"}, "FAIL debug off"),
        ({}, {"SECRET_KEY": ""}, "FAIL SECRET_KEY set in the environment"),
        ({}, {"SECRET_KEY": "short"}, "FAIL SECRET_KEY set in the environment"),
        ({"SESSION_COOKIE_SECURE": False}, {}, "FAIL HTTPS-only session cookie"),
        ({"HELPDESK_ENV": "development"}, {}, "FAIL HELPDESK_ENV=production"),
        ({"RATELIMIT_ENABLED": False}, {}, "FAIL sign-in rate limiting on"),
        ({"REDIS_URL": None}, {"WEB_CONCURRENCY": "4"}, "FAIL shared rate limits"),
    ]
    make_user("admin", "admin", password="A-strong-secret-passphrase")
    for config, env, expected in cases:
        _safe(app)
        app.config.update(config)
        result = _run(app, monkeypatch, **env)
        assert expected in result.output, (config, env, result.output)
        assert result.exit_code != 0


def test_default_admin_password_is_reported(app, monkeypatch):  # type: ignore[no-untyped-def]
    from helpdesk.users.services import create_user

    create_user(
        None, username="admin", password=DEFAULT_ADMIN_PASSWORD, role="admin", check_policy=False
    )
    db.session.commit()
    _safe(app)
    result = _run(app, monkeypatch)
    assert "FAIL default admin password changed (admin)" in result.output
    assert result.exit_code != 0


def test_sqlite_with_several_workers_is_reported(app, monkeypatch):  # type: ignore[no-untyped-def]
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    _safe(app)
    result = _run(app, monkeypatch, WEB_CONCURRENCY="3")
    assert "FAIL database suits the number of server processes" in result.output
