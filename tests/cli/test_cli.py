"""The `helpdesk` commands through Flask's CLI runner: each one's success and its
main failure (one line naming the problem and the fix, non-zero exit, no traceback)."""

from __future__ import annotations

import re
import socket

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from helpdesk.cli import main
from helpdesk.config import ConfigError, load_settings
from helpdesk.extensions import db
from helpdesk.security.passwords import verify_password
from helpdesk.tickets.models import Ticket
from helpdesk.users.models import Role, User
from tests.conftest import PASSWORD, make_app, worker_reported

# A PostgreSQL URL on a port where nothing listens: "the database is down".
DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:1/helpdesk"


@pytest.fixture
def fresh_app(database, tmp_path):
    """An app on an empty database: no tables, nothing migrated."""
    app = make_app(database, tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def down_app(database, tmp_path):
    app = make_app(database, tmp_path, SQLALCHEMY_DATABASE_URI=DOWN_URL)
    yield app
    with app.app_context():
        db.engine.dispose()


def invoke(app, *args: str, **kwargs):
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


def assert_clean_failure(result, *needles: str) -> None:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.output
    for needle in needles:
        assert needle in result.output, result.output


def _user(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def test_init_db_development(fresh_app):
    result = invoke(fresh_app, "init-db")
    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output and "admin123" in result.output
    admin = _user(fresh_app, "admin")
    assert admin.role == Role.ADMIN and admin.must_change_password
    assert verify_password(admin.password_hash, "admin123")
    again = invoke(fresh_app, "init-db")  # idempotent
    assert again.exit_code == 0 and "already exists" in again.output


def test_init_db_production_prints_a_generated_password_once(fresh_app):
    fresh_app.config["HELPDESK_ENV"] = "production"
    result = invoke(fresh_app, "init-db")
    assert result.exit_code == 0, result.output
    match = re.search(r"password: (\S+)", result.output)
    assert match, result.output
    password = match.group(1)
    assert len(password) >= 16 and password != "admin123"
    admin = _user(fresh_app, "admin")
    assert verify_password(admin.password_hash, password) and admin.must_change_password
    again = invoke(fresh_app, "init-db")
    assert again.exit_code == 0 and password not in again.output
    assert "already exists" in again.output


def test_init_db_production_takes_admin_password(fresh_app):
    fresh_app.config.update(HELPDESK_ENV="production", ADMIN_PASSWORD="A-strong-secret-passw0rd")
    result = invoke(fresh_app, "init-db")
    assert result.exit_code == 0, result.output
    assert "A-strong-secret-passw0rd" not in result.output
    assert verify_password(_user(fresh_app, "admin").password_hash, "A-strong-secret-passw0rd")


def test_init_db_production_refuses_a_weak_admin_password(fresh_app):
    fresh_app.config.update(HELPDESK_ENV="production", ADMIN_PASSWORD="admin123")
    assert_clean_failure(invoke(fresh_app, "init-db"), "ADMIN_PASSWORD")
    assert _user(fresh_app, "admin") is None


@pytest.mark.parametrize(
    "command",
    [
        ["init-db"],
        ["reset-admin"],
        ["create-user", "carol", "--password", PASSWORD],
        ["verify-schema"],
        ["seed-demo", "--tickets", "5"],
    ],
)
def test_database_down_is_one_line_without_traceback(down_app, command):
    result = invoke(down_app, *command)
    assert_clean_failure(result, "Cannot use the database", "127.0.0.1:1", "DATABASE_URL")


def test_bad_sqlite_path_is_one_line(database, tmp_path):
    app = make_app(
        database,
        tmp_path,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/helpdesk.db",
    )
    assert_clean_failure(invoke(app, "init-db"), "Cannot use the database")


def test_check_system_reports_the_database_down(down_app):
    result = invoke(down_app, "check-system")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "FAIL database reachable" in result.output
    assert "Error:" in result.output


def test_check_system_ok_after_init_db(fresh_app, monkeypatch):
    for key in ("WEB_CONCURRENCY", "HELPDESK_PROCESSES"):
        monkeypatch.delenv(key, raising=False)
    assert invoke(fresh_app, "init-db").exit_code == 0
    no_worker = invoke(fresh_app, "check-system")
    assert no_worker.exit_code != 0
    assert "FAIL background worker reporting (none ever did)" in no_worker.output
    assert "start one: `helpdesk worker`" in no_worker.output
    worker_reported(fresh_app)
    result = invoke(fresh_app, "check-system")
    assert result.exit_code == 0, result.output
    for line in ("OK   database reachable", "OK   migrations at head", "OK   upload dir writable"):
        assert line in result.output
    assert "OK   background worker reporting" in result.output
    assert "FAIL" not in result.output


def test_check_system_before_migrating_says_how_to_fix(fresh_app):
    result = invoke(fresh_app, "check-system")
    assert result.exit_code != 0
    assert "FAIL migrations at head" in result.output and "helpdesk init-db" in result.output


def test_reset_admin(fresh_app):
    missing = invoke(fresh_app, "init-db", "--help")
    assert missing.exit_code == 0
    # before init-db there are no tables, after it there is an admin
    invoke(fresh_app, "init-db")
    result = invoke(fresh_app, "reset-admin")
    assert result.exit_code == 0, result.output
    password = re.search(r"New password: (\S+)", result.output).group(1)
    admin = _user(fresh_app, "admin")
    assert verify_password(admin.password_hash, password) and admin.must_change_password
    given = invoke(fresh_app, "reset-admin", "--password", "Another-l0ng-passw0rd")
    assert given.exit_code == 0 and "Another-l0ng-passw0rd" not in given.output
    assert verify_password(_user(fresh_app, "admin").password_hash, "Another-l0ng-passw0rd")
    weak = invoke(fresh_app, "reset-admin", "--password", "short")
    assert_clean_failure(weak)


def test_reset_admin_without_admin(fresh_app):
    with fresh_app.app_context():
        db.create_all()
    assert_clean_failure(invoke(fresh_app, "reset-admin"), "init-db")


def test_create_user(fresh_app):
    invoke(fresh_app, "init-db")
    result = invoke(
        fresh_app,
        "create-user",
        "carol",
        "--role",
        "technician",
        "--full-name",
        "Carol Díaz",
        "--email",
        "carol@example.com",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    carol = _user(fresh_app, "carol")
    assert (carol.role, carol.full_name, carol.email) == (
        Role.TECHNICIAN,
        "Carol Díaz",
        "carol@example.com",
    )
    assert PASSWORD not in result.output
    exists = invoke(fresh_app, "create-user", "Carol", "--password", PASSWORD)
    assert_clean_failure(exists, "Carol")
    weak = invoke(fresh_app, "create-user", "dave", "--password", "123")
    assert_clean_failure(weak)
    bad_name = invoke(fresh_app, "create-user", "a b", "--password", PASSWORD)
    assert_clean_failure(bad_name)
    assert _user(fresh_app, "dave") is None


def test_verify_schema_clean_after_init_db_and_reports_drift(fresh_app):
    unmigrated = invoke(fresh_app, "verify-schema")
    assert_clean_failure(unmigrated, "difference")
    assert "migrations: database at nothing" in unmigrated.output

    assert invoke(fresh_app, "init-db").exit_code == 0
    clean = invoke(fresh_app, "verify-schema")
    assert clean.exit_code == 0, clean.output
    assert "Schema OK" in clean.output

    with fresh_app.app_context():
        db.session.execute(text("CREATE TABLE stray_table (id INTEGER PRIMARY KEY)"))
        db.session.commit()
    drift = invoke(fresh_app, "verify-schema")
    assert_clean_failure(drift, "difference")
    assert "stray_table" in drift.output


def test_generate_secret_key(fresh_app):
    result = invoke(fresh_app, "generate-secret-key")
    assert result.exit_code == 0
    assert re.fullmatch(r"SECRET_KEY=[0-9a-f]{64}\n", result.output)
    assert invoke(fresh_app, "generate-secret-key").output != result.output


def test_seed_demo(fresh_app):
    assert invoke(fresh_app, "init-db").exit_code == 0
    result = invoke(fresh_app, "seed-demo", "--tickets", "30", "--comments", "1")
    assert result.exit_code == 0, result.output
    assert "Seeded 30 tickets" in result.output
    with fresh_app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == 30
    # the demo's tickets keep working with the services (numbers continue)
    from helpdesk.tickets import services

    with fresh_app.app_context():
        user = db.session.scalar(select(User).where(User.role == Role.USER).limit(1))
        category_id = services.list_categories()[0].id
        ticket = services.create_ticket(
            user, title="after", description="d", category_id=category_id
        )
        db.session.commit()
        numbers = set(db.session.scalars(select(Ticket.number)))
        assert len(numbers) == 31 and ticket.number in numbers
    refused = invoke(fresh_app, "seed-demo", "--tickets", "-1")
    assert refused.exit_code != 0 and "Traceback" not in refused.output


def test_run_refuses_a_busy_port(fresh_app):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(fresh_app, "run", "--port", str(port))
    assert_clean_failure(result, f"127.0.0.1:{port}", "--port")


# ---------------------------------------------------------------- settings


def test_production_without_secret_key_stops_with_the_fix():
    with pytest.raises(ConfigError) as info:
        load_settings({"HELPDESK_ENV": "production", "DATABASE_URL": "sqlite:///x.db"})
    assert "generate-secret-key" in str(info.value)
    with pytest.raises(ConfigError, match="too short"):
        load_settings({"HELPDESK_ENV": "production", "SECRET_KEY": "short"})


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    env = {"HELPDESK_INSTANCE_DIR": str(tmp_path)}
    first = load_settings(dict(env))
    assert len(first.secret_key) == 64
    assert load_settings(dict(env)).secret_key == first.secret_key
    assert (tmp_path / "secret_key").read_text().strip() == first.secret_key


@pytest.mark.parametrize(
    "env,message",
    [
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"HELPDESK_ENV": "staging"}, "HELPDESK_ENV"),
        ({"MAX_UPLOAD_MB": "ten"}, "MAX_UPLOAD_MB"),
        ({"MAX_UPLOAD_MB": "0"}, "MAX_UPLOAD_MB"),
        ({"SESSION_TIMEOUT_MINUTES": "-5"}, "SESSION_TIMEOUT_MINUTES"),
        ({"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"HELPDESK_INSTANCE_DIR": str(tmp_path), **env})


def test_settings_defaults_and_url_normalisation(tmp_path):
    s = load_settings({"HELPDESK_INSTANCE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path.as_posix()}/helpdesk.db"
    assert (s.max_upload_mb, s.session_timeout_minutes, s.default_locale) == (10, 5, "es")
    assert s.upload_dir == tmp_path / "uploads"
    mysql = load_settings(
        {"HELPDESK_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "mysql://u@h/db"}
    )
    assert mysql.database_url == "mysql+pymysql://u@h/db?charset=utf8mb4"
    pg = load_settings(
        {"HELPDESK_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@h/db"}
    )
    assert pg.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    "env,message",
    [
        ({"HELPDESK_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
    ],
)
def test_the_helpdesk_command_reports_config_errors_in_one_line(tmp_path, env, message):
    """The real entry point (`helpdesk ...`), reading the environment like a shell would."""
    result = CliRunner().invoke(
        main, ["verify-schema"], env={"HELPDESK_INSTANCE_DIR": str(tmp_path), **env}
    )
    assert_clean_failure(result, message)


def test_run_serves_the_app_until_stopped(tmp_path):
    """`helpdesk run` as a user starts it: a real process on 127.0.0.1, stopped by the test."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(HELPDESK_INSTANCE_DIR=str(tmp_path), HELPDESK_ENV="development")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from helpdesk.cli import main; main()", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, proc.stdout.read().decode() if proc.poll() is not None else ""
        assert b'"database":"ok"' in body.replace(b" ", b"")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
            assert r.status == 200
            # no server software or version for a client to look exploits up by
            assert r.headers.get("Server") is None, r.headers.get("Server")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
