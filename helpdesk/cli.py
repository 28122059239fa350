"""The `helpdesk` command: run, init-db, reset-admin, create-user, verify-schema,
check-system, generate-secret-key, seed-demo, exports-cleanup.

Expected failures (bad URL, database down, user exists) print one line naming
the problem and the fix and exit non-zero; no traceback.
"""

from __future__ import annotations

import os
import platform
import secrets
import struct
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from helpdesk.config import ConfigError

DEFAULT_ADMIN_PASSWORD = "admin123"  # noqa: S105  development only; must be changed at first login


def _create_app() -> Flask:
    from helpdesk import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _db_error_message(exc: Exception) -> str:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    from sqlalchemy.engine import make_url

    safe = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
    return (
        f"Cannot use the database at {safe}: {reason}. Check that the server is running, "
        "that DATABASE_URL in .env is right and that the database exists."
    )


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Helpdesk: a self-hosted help desk."""


def register_commands(app: Flask) -> None:
    """Commands are also reachable as `flask --app helpdesk <command>`."""
    from helpdesk.jobs.cli import worker

    app.cli.add_command(worker)
    for command in (
        run,
        init_db,
        reset_admin,
        create_user,
        verify_schema,
        check_system,
        generate_secret_key,
        seed_demo,
        exports_cleanup,
    ):
        app.cli.add_command(command)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False)
@with_appcontext
def run(host: str, port: int, debug: bool) -> None:
    """Serve the app (with Socket.IO) for development or a small team."""
    from helpdesk.extensions import socketio

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _check_port_free(host, port)
    click.echo(f"Helpdesk on http://{host}:{port}/  (Ctrl+C to stop)")
    # Flask ignores app.run() inside its own CLI; this command *is* the server.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(
        app, host=host, port=port, debug=debug, use_reloader=False, allow_unsafe_werkzeug=True
    )


def _check_port_free(host: str, port: int) -> None:
    """Say which port is taken instead of the server's traceback."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        fail(f"Cannot serve on {host}: {exc.strerror or exc}. Use --host 127.0.0.1.")
    family, _type, _proto, _name, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # what the server itself sets; on Windows it would allow a clash
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(
                f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Another program "
                f"(maybe another Helpdesk) uses that port; stop it or pick one with --port."
            )


def _upgrade_to_head() -> None:
    from flask_migrate import upgrade

    upgrade()


def _ensure_admin(password: str | None) -> tuple[bool, str | None]:
    """Create the `admin` account when missing. Returns (created, password to print)."""
    from helpdesk.extensions import db
    from helpdesk.users import services as users

    if users.find_by_username("admin") is not None:
        return False, None
    production = current_app.config["HELPDESK_ENV"] == "production"
    generated = None
    if password is None:
        if production:
            generated = password = secrets.token_urlsafe(16)
        else:
            password = DEFAULT_ADMIN_PASSWORD
    users.create_user(
        None,
        username="admin",
        password=password,
        role="admin",
        full_name="Administrator",
        must_change_password=True,
        check_policy=production,  # the development default is weak on purpose and forced to change
    )
    db.session.commit()
    return True, generated


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Migrate the database to the newest schema and create the admin account."""
    from helpdesk.errors import HelpdeskError

    try:
        _upgrade_to_head()
        created, generated = _ensure_admin(current_app.config.get("ADMIN_PASSWORD"))
    except (OperationalError, SQLAlchemyError) as exc:
        fail(_db_error_message(exc))
    except HelpdeskError as exc:
        fail(f"Cannot create the admin: {exc.message} (set ADMIN_PASSWORD to a stronger one)")
    click.echo("Database is at the newest schema.")
    if created and generated:
        click.echo(f"Created user 'admin' with password: {generated}")
        click.echo("It is shown only this once; you must change it at first sign-in.")
    elif created:
        pw = "from ADMIN_PASSWORD" if current_app.config.get("ADMIN_PASSWORD") else "admin123"
        click.echo(f"Created user 'admin' (password {pw}); you must change it at first sign-in.")
    else:
        click.echo("User 'admin' already exists; left unchanged.")


@click.command("reset-admin")
@click.option("--password", help="New password; generated and printed when omitted.")
@with_appcontext
def reset_admin(password: str | None) -> None:
    """Reset the password of `admin` (re-activating it); it must be changed at next sign-in."""
    from helpdesk.errors import HelpdeskError
    from helpdesk.extensions import db
    from helpdesk.users import services as users

    try:
        admin = users.find_by_username("admin")
        if admin is None:
            fail("There is no user 'admin'; run `helpdesk init-db` first.")
        shown = password or secrets.token_urlsafe(16)
        users.reset_password(None, admin, shown)
        admin.active = True
        db.session.commit()
    except (OperationalError, SQLAlchemyError) as exc:
        fail(_db_error_message(exc))
    except HelpdeskError as exc:
        fail(exc.message)
    click.echo("Password of 'admin' reset; it must be changed at next sign-in.")
    if not password:
        click.echo(f"New password: {shown}")


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["admin", "technician", "user"]), default="user", show_default=True
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--full-name", default="")
@click.option("--email", default=None)
@with_appcontext
def create_user(username: str, role: str, password: str, full_name: str, email: str | None) -> None:
    """Create a user account."""
    from helpdesk.errors import HelpdeskError
    from helpdesk.extensions import db
    from helpdesk.users import services as users

    try:
        user = users.create_user(
            None, username=username, password=password, role=role, full_name=full_name, email=email
        )
        db.session.commit()
    except HelpdeskError as exc:
        fail(exc.message)
    except (OperationalError, SQLAlchemyError) as exc:
        fail(_db_error_message(exc))
    click.echo(f"Created {role} '{user.username}'.")


def schema_differences() -> tuple[str | None, str | None, list[Any]]:
    """(current revision, head revision, differences between the live DB and the models)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    from helpdesk.extensions import db
    from helpdesk.tickets.search import include_name

    migrate_ext: Migrate = current_app.extensions["migrate"].migrate
    config = migrate_ext.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True, "include_name": include_name},
        )
        current = context.get_current_revision()
        diffs = compare_metadata(context, db.metadata)
    return current, head, diffs


@click.command("verify-schema")
@with_appcontext
def verify_schema() -> None:
    """Compare the live database with the models and the migrations; list what differs."""
    try:
        current, head, diffs = schema_differences()
    except (OperationalError, SQLAlchemyError) as exc:
        fail(_db_error_message(exc))
    problems = []
    if current != head:
        problems.append(
            f"migrations: database at {current or 'nothing'}, code at {head} "
            "(run `helpdesk init-db` to upgrade)"
        )
    for diff in diffs:
        problems.append(f"differs: {diff}")
    if problems:
        for line in problems:
            click.echo(line)
        fail(f"{len(problems)} difference(s) between the database and the code.")
    click.echo(f"Schema OK: database at {head}, tables match the models.")


@click.command("check-system")
@click.option("--production", is_flag=True, help="Also warn about unsafe production settings.")
@with_appcontext
def check_system(production: bool) -> None:
    """Check Python, database, migrations, uploads, secret key and Redis; each line OK/FAIL."""
    results: list[tuple[bool, str, str]] = []  # (ok, what, fix)
    bits = struct.calcsize("P") * 8
    py_ok = sys.version_info >= (3, 10) and bits == 64
    results.append(
        (
            py_ok,
            f"Python {platform.python_version()} {bits}-bit",
            "install 64-bit Python 3.10 or newer",
        )
    )
    db_ok = False
    try:
        from sqlalchemy import text

        from helpdesk.extensions import db

        db.session.execute(text("SELECT 1"))
        db_ok = True
        results.append((True, "database reachable", ""))
    except SQLAlchemyError as exc:
        results.append((False, "database reachable", _db_error_message(exc)))
    if db_ok:
        try:
            current, head, _diffs = schema_differences()
            results.append(
                (
                    current == head,
                    f"migrations at head ({current or 'none'})",
                    "run `helpdesk init-db`",
                )
            )
        except SQLAlchemyError as exc:
            results.append((False, "migrations", _db_error_message(exc)))
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    try:
        upload_dir.mkdir(parents=True, exist_ok=True)
        probe = upload_dir / f".probe-{secrets.token_hex(4)}"
        probe.write_bytes(b"ok")
        probe.unlink()
        results.append((True, f"upload dir writable ({upload_dir})", ""))
    except OSError as exc:
        results.append(
            (
                False,
                f"upload dir writable ({upload_dir})",
                f"{exc.strerror}; set UPLOAD_DIR to a writable folder",
            )
        )
    results.append(
        (
            bool(current_app.config.get("SECRET_KEY")),
            "SECRET_KEY set",
            "run `helpdesk generate-secret-key` and put it in .env",
        )
    )
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
            results.append((True, "Redis reachable", ""))
        except Exception as exc:
            results.append((False, "Redis reachable", f"{exc}; start Redis or unset REDIS_URL"))
    results.append(
        sqlite_processes_check(current_app.config["SQLALCHEMY_DATABASE_URI"], os.environ)
    )
    if production:
        results.extend(production_warnings())
    failed = 0
    for ok, what, fix in results:
        click.echo(f"{'OK  ' if ok else 'FAIL'} {what}" + ("" if ok else f" — {fix}"))
        failed += not ok
    if failed:
        fail(f"{failed} check(s) failed.")


def production_warnings(env: Any = None) -> list[tuple[bool, str, str]]:
    """Every unsafe production setting, as (ok, what, fix)."""
    from sqlalchemy import select

    from helpdesk.extensions import db
    from helpdesk.security.passwords import verify_password
    from helpdesk.users.models import Role, User

    env = os.environ if env is None else env
    cfg = current_app.config
    out: list[tuple[bool, str, str]] = []
    out.append(
        (
            cfg.get("HELPDESK_ENV") == "production",
            "HELPDESK_ENV=production",
            "set HELPDESK_ENV=production",
        )
    )
    debug_env = env.get("FLASK_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    out.append(
        (
            not cfg.get("DEBUG") and not debug_env,
            "debug off",
            "do not run with --debug; unset FLASK_DEBUG",
        )
    )
    secret = env.get("SECRET_KEY", "").strip()
    out.append(
        (
            len(secret) >= 32,
            "SECRET_KEY set in the environment (32+ characters)",
            "run `helpdesk generate-secret-key` and put the line into .env or the service "
            "environment (a generated development key must not be used in production)",
        )
    )
    out.append(
        (
            bool(cfg.get("SESSION_COOKIE_SECURE")) and bool(cfg.get("REMEMBER_COOKIE_SECURE")),
            "HTTPS-only session cookie (Secure flag)",
            "serve over HTTPS with HELPDESK_ENV=production",
        )
    )
    out.append(
        (
            bool(cfg.get("SESSION_COOKIE_HTTPONLY"))
            and cfg.get("SESSION_COOKIE_SAMESITE") in ("Lax", "Strict"),
            "session cookie HttpOnly and SameSite",
            "keep SESSION_COOKIE_HTTPONLY=True and SESSION_COOKIE_SAMESITE=Lax",
        )
    )
    out.append(
        (
            cfg.get("RATELIMIT_ENABLED", True) is not False,
            "sign-in rate limiting on",
            "do not set RATELIMIT_ENABLED=False in production",
        )
    )
    try:
        admins = db.session.scalars(
            select(User).where(User.role == Role.ADMIN, User.active.is_(True))
        ).all()
        weak = [
            a.username for a in admins if verify_password(a.password_hash, DEFAULT_ADMIN_PASSWORD)
        ]
    except SQLAlchemyError:
        weak = []
    out.append(
        (
            not weak,
            "default admin password changed" + (f" ({', '.join(weak)})" if weak else ""),
            "sign in and change the password, or run `helpdesk reset-admin`",
        )
    )
    counts = [env.get(k, "").strip() for k in ("WEB_CONCURRENCY", "HELPDESK_PROCESSES")]
    several = any(c.isdigit() and int(c) > 1 for c in counts)
    out.append(
        (
            not several or bool(cfg.get("REDIS_URL")),
            "shared rate limits and sockets across server processes",
            "several processes (WEB_CONCURRENCY/HELPDESK_PROCESSES > 1) need REDIS_URL, or "
            "sign-in limits and Socket.IO rooms are per process",
        )
    )
    return out


def sqlite_processes_check(database_url: str, env: Any) -> tuple[bool, str, str]:
    """SQLite serialises writers across processes; beyond one, use a database server."""
    counts = [env.get(k, "").strip() for k in ("WEB_CONCURRENCY", "HELPDESK_PROCESSES")]
    several = any(c.isdigit() and int(c) > 1 for c in counts)
    return (
        not (str(database_url).startswith("sqlite") and several),
        "database suits the number of server processes",
        "SQLite with several server processes: use PostgreSQL or MySQL/MariaDB "
        "(DATABASE_URL), or run one process (WEB_CONCURRENCY=1)",
    )


@click.command("generate-secret-key")
def generate_secret_key() -> None:
    """Print a new random SECRET_KEY line for .env."""
    click.echo(f"SECRET_KEY={secrets.token_hex(32)}")


@click.command("seed-demo")
@click.option("--tickets", "n_tickets", default=200, show_default=True, type=click.IntRange(0))
@click.option("--users", "n_users", default=None, type=click.IntRange(1))
@click.option("--technicians", "n_techs", default=None, type=click.IntRange(1))
@click.option(
    "--comments", "comments_per_ticket", default=2, show_default=True, type=click.IntRange(0, 50)
)
@click.option("--seed", default=42, show_default=True, type=int)
@with_appcontext
def seed_demo(
    n_tickets: int, n_users: int | None, n_techs: int | None, comments_per_ticket: int, seed: int
) -> None:
    """Fill the database with realistic demo data (bulk inserts)."""
    import time

    from helpdesk.demo import seed as seed_data

    started = time.perf_counter()
    try:
        stats = seed_data(
            n_tickets=n_tickets,
            n_users=n_users,
            n_techs=n_techs,
            comments_per_ticket=comments_per_ticket,
            random_seed=seed,
        )
    except (OperationalError, SQLAlchemyError) as exc:
        fail(_db_error_message(exc))
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded {stats['tickets']} tickets, {stats['comments']} comments, "
        f"{stats['users']} users, {stats['technicians']} technicians in {elapsed:.1f} s."
    )


@click.command("exports-cleanup")
@with_appcontext
def exports_cleanup() -> None:
    """Remove Excel export jobs and files older than 24 hours (also done at each new job)."""
    from helpdesk.extensions import db
    from helpdesk.reports import jobs

    try:
        stale = jobs.fail_stale()
        removed = jobs.remove_expired()
        db.session.commit()  # the files go after the commit
    except (OperationalError, SQLAlchemyError) as exc:
        fail(_db_error_message(exc))
    click.echo(f"Removed {removed} expired export job(s); marked {stale} stopped one(s) failed.")
