"""The `helpdesk` command: run, init-db, reset-admin, create-user, verify-schema,
check-system, generate-secret-key, seed-demo, exports-cleanup.

Expected failures (bad URL, database down, user exists) print one line naming
the problem and the fix and exit non-zero; no traceback.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from helpdesk.config import ConfigError
from helpdesk.ops.checks import (  # noqa: F401  (moved; re-exported for old imports)
    DEFAULT_ADMIN_PASSWORD,
    db_error_message,
    production_warnings,
    schema_differences,
    sqlite_processes_check,
    system_checks,
)
from helpdesk.transaction import unit_of_work


def _create_app() -> Flask:
    from helpdesk import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Helpdesk: a self-hosted help desk."""


def register_commands(app: Flask) -> None:
    """Commands are also reachable as `flask --app helpdesk <command>`."""
    from helpdesk.attachments.cli import attachments_check
    from helpdesk.jobs.cli import worker

    app.cli.add_command(worker)
    app.cli.add_command(attachments_check)
    for command in (
        run,
        init_db,
        reset_admin,
        create_user,
        verify_schema,
        check_system,
        generate_secret_key,
        seed_demo,
        demo,
        backup,
        restore,
        exports_cleanup,
    ):
        app.cli.add_command(command)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False)
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Also run one background worker (stopped with the server).",
)
@with_appcontext
def run(host: str, port: int, debug: bool, worker: bool) -> None:
    """Serve the app (with Socket.IO) and a background worker, for development or a
    small team."""
    from helpdesk.extensions import current_app_object

    serve(current_app_object(), host, port, debug, worker)


def serve(app: Flask, host: str, port: int, debug: bool = False, worker: bool = True) -> None:
    """`helpdesk run`'s server (and worker) for `app`; `helpdesk demo` serves the same way."""
    from helpdesk.extensions import socketio
    from helpdesk.jobs import backend
    from helpdesk.jobs.worker import spawn_worker, stop_worker
    from helpdesk.security_http import QuietRequestHandler

    _check_port_free(host, port)
    child = spawn_worker(app) if worker and backend(app) != "immediate" else None
    click.echo(
        f"Helpdesk on http://{host}:{port}/"
        + (f" with a background worker (pid {child.pid})" if child else "")
        + "  (Ctrl+C to stop)"
    )
    # Flask ignores app.run() inside its own CLI; this command *is* the server.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    try:
        socketio.run(
            app,
            host=host,
            port=port,
            debug=debug,
            use_reloader=False,
            allow_unsafe_werkzeug=True,
            request_handler=QuietRequestHandler,
        )
    finally:
        if child is not None:
            stop_worker(child)


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


def _pending_migrations() -> list[Any]:
    """Revisions between the database and the code, oldest first."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from helpdesk.extensions import db

    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return list(reversed(list(script.iterate_revisions(script.get_current_head(), current))))


def _upgrade_to_head(echo: Any = None) -> None:
    """Migrate one revision at a time, saying which and how long each took."""
    import time

    from flask_migrate import upgrade

    pending = _pending_migrations()
    if not pending:
        return
    if echo:
        echo(f"Migrating the database: {len(pending)} step(s) to {pending[-1].revision}.")
    for rev in pending:
        started = time.perf_counter()
        upgrade(revision=rev.revision)
        if echo:
            summary = (rev.doc or "").splitlines()[0] if rev.doc else ""
            echo(f"  {rev.revision}  {summary} ({time.perf_counter() - started:.1f} s)")


def _ensure_admin(password: str | None) -> tuple[bool, str | None]:
    """Create the `admin` account when missing. Returns (created, password to print)."""
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
    with unit_of_work():
        users.create_user(
            None,
            username="admin",
            password=password,
            role="admin",
            full_name="Administrator",
            must_change_password=True,
            check_policy=production,  # the development default is weak on purpose, changed at once
        )
    return True, generated


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Migrate the database to the newest schema and create the admin account."""
    from helpdesk.desk.services import first_start_defaults
    from helpdesk.errors import HelpdeskError
    from helpdesk.transaction import unit_of_work

    try:
        _upgrade_to_head(click.echo)
        created, generated = _ensure_admin(current_app.config.get("ADMIN_PASSWORD"))
        # A new desk's defaults (categories; the 24×7 service level policy joins
        # desk.services.FIRST_START), once, in DEFAULT_LOCALE.
        with unit_of_work():
            defaults = first_start_defaults()
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
    except HelpdeskError as exc:
        fail(f"Cannot create the admin: {exc.message} (set ADMIN_PASSWORD to a stronger one)")
    click.echo("Database is at the newest schema.")
    for line in defaults:
        click.echo(line)
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
    from helpdesk.users import services as users

    try:
        with unit_of_work():
            admin = users.find_by_username("admin")
            if admin is None:
                fail("There is no user 'admin'; run `helpdesk init-db` first.")
            shown = password or secrets.token_urlsafe(16)
            users.reset_password(None, admin, shown)
            admin.active = True
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
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
    from helpdesk.users import services as users

    try:
        with unit_of_work():
            user = users.create_user(
                None,
                username=username,
                password=password,
                role=role,
                full_name=full_name,
                email=email,
            )
            name = user.username
    except HelpdeskError as exc:
        fail(exc.message)
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
    click.echo(f"Created {role} '{name}'.")


@click.command("verify-schema")
@with_appcontext
def verify_schema() -> None:
    """Compare the live database with the models and the migrations; list what differs."""
    try:
        current, head, diffs = schema_differences()
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
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
@click.option(
    "--no-worker-check",
    is_flag=True,
    help="Leave out whether a background worker reports (a service's start-up check, "
    "which may run before any worker did).",
)
@with_appcontext
def check_system(production: bool, no_worker_check: bool) -> None:
    """Check Python, database, migrations, uploads, secret key, Redis and the background
    worker; each line OK/FAIL."""
    failed = 0
    for ok, what, fix in system_checks(production, worker=not no_worker_check):
        click.echo(f"{'OK  ' if ok else 'FAIL'} {what}" + ("" if ok else f" — {fix}"))
        failed += not ok
    if failed:
        fail(f"{failed} check(s) failed.")


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
    from helpdesk.ops.progress import progress_bar

    started = time.perf_counter()
    try:
        with progress_bar(n_tickets, "Tickets") as progress:
            stats = seed_data(
                n_tickets=n_tickets,
                n_users=n_users,
                n_techs=n_techs,
                comments_per_ticket=comments_per_ticket,
                random_seed=seed,
                progress=progress,
            )
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded {stats['tickets']} tickets, {stats['comments']} comments, "
        f"{stats['users']} users, {stats['technicians']} technicians in {elapsed:.1f} s."
    )


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--tickets", "n_tickets", default=3000, show_default=True, type=click.IntRange(1))
@click.option("--reset", is_flag=True, help="Throw the demo away and build a new one.")
@click.option(
    "--serve/--no-serve", "serve_it", default=True, show_default=True, help="Serve it after."
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo lives [default: instance/demo].",
)
def demo(
    host: str, port: int, n_tickets: int, reset: bool, serve_it: bool, folder: Path | None
) -> None:
    """Serve a lived-in demo desk from its own database (instance/demo/); the real
    desk's database, uploads and settings are never read or written."""
    import shutil

    from helpdesk import demo_desk
    from helpdesk.config import DEFAULT_INSTANCE_DIR
    from helpdesk.ops.progress import progress_bar

    folder = (
        folder or Path(os.environ.get("HELPDESK_INSTANCE_DIR") or DEFAULT_INSTANCE_DIR) / "demo"
    )
    if reset and folder.exists():
        shutil.rmtree(folder)
    demo_desk.use_demo_environment(folder)
    app = _create_app()
    with app.app_context():
        try:
            _upgrade_to_head(click.echo)
            if not demo_desk.is_built():
                click.echo(f"Building the demo desk in {folder} ({n_tickets:,} tickets)…")
                with progress_bar(n_tickets, "Tickets", minimum=1) as step:
                    stats = demo_desk.build(n_tickets, progress=step)
                click.echo(
                    f"Made {stats['tickets']:,} tickets, {stats['comments']:,} comments, "
                    f"{stats['messages']:,} chat messages, {stats['notifications']:,} "
                    "notifications."
                )
        except (OperationalError, SQLAlchemyError) as exc:
            fail(db_error_message(exc))
        finally:
            from helpdesk.extensions import db

            db.session.remove()
    click.echo("Demo accounts (password for all: " + demo_desk.DEMO_PASSWORD + "):")
    for role, username in demo_desk.ACCOUNTS:
        click.echo(f"  {role:<11} {username}")
    if serve_it:
        serve(app, host, port)


@click.command("backup")
@click.option(
    "--to",
    "to_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the archive [default: instance/backups].",
)
@with_appcontext
def backup(to_dir: Path | None) -> None:
    """Write one archive with the database, the uploads and the non-secret settings,
    with a manifest of checksums (safe while the desk runs)."""
    from helpdesk.ops.backup import BackupError, create_backup

    target = to_dir or Path(current_app.instance_path) / "backups"
    try:
        archive = create_backup(target, click.echo)
    except (BackupError, OSError) as exc:
        fail(f"Backup failed: {exc}")
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
    click.echo(f"Backup written: {archive} ({archive.stat().st_size:,} bytes).")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data already in the database.")
@with_appcontext
def restore(archive: Path, force: bool) -> None:
    """Restore a `helpdesk backup` archive into an empty database (and upload folder)."""
    from helpdesk.ops.backup import BackupError, restore_backup

    try:
        counts = restore_backup(archive, force=force, echo=click.echo)
    except (BackupError, OSError) as exc:
        fail(str(exc))
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
    rows = sum(counts.values())
    click.echo(f"Restored {rows:,} rows in {len(counts)} tables from {archive.name}.")
    click.echo("Sign-ins start afresh: nobody stays signed in across a restore.")


@click.command("exports-cleanup")
@with_appcontext
def exports_cleanup() -> None:
    """Remove Excel export jobs and files older than 24 hours (also done at each new job)."""
    from helpdesk.reports import jobs

    try:
        with unit_of_work():  # the files go after the commit
            stale = jobs.fail_stale()
            removed = jobs.remove_expired()
    except (OperationalError, SQLAlchemyError) as exc:
        fail(db_error_message(exc))
    click.echo(f"Removed {removed} expired export job(s); marked {stale} stopped one(s) failed.")
