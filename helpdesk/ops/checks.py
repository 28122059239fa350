"""The system checks behind `helpdesk check-system` and `helpdesk verify-schema`.

Each check is (ok, what, fix): the command prints them; tests call them directly.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import struct
import sys
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_ADMIN_PASSWORD = "admin123"  # noqa: S105  development only; must be changed at first login


def db_error_message(exc: Exception) -> str:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    from sqlalchemy.engine import make_url

    safe = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
    return (
        f"Cannot use the database at {safe}: {reason}. Check that the server is running, "
        "that DATABASE_URL in .env is right and that the database exists."
    )


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


FREE_SPACE_WARN_MB = 1024


def free_space_checks() -> list[tuple[bool, str, str]]:
    """Free space where the database (SQLite), uploads and exports are written; below
    `FREE_SPACE_WARN_MB` (config, default 1 GB) is a warning to act on before writes fail."""
    from sqlalchemy.engine import make_url

    limit = int(current_app.config.get("FREE_SPACE_WARN_MB", FREE_SPACE_WARN_MB))
    places = {"uploads": current_app.config["UPLOAD_DIR"]}
    if current_app.config.get("EXPORT_DIR"):
        places["exports"] = current_app.config["EXPORT_DIR"]
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        places["database"] = str(Path(url.database).resolve().parent)
    results = []
    for what, folder in places.items():
        path = Path(folder)
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            free_mb = shutil.disk_usage(path).free // (1024 * 1024)
        except OSError as exc:
            results.append((False, f"free space for {what} ({folder})", str(exc)))
            continue
        results.append(
            (
                free_mb >= limit,
                f"free space for {what}: {free_mb} MB ({folder})",
                f"below {limit} MB: free some space before writes fail",
            )
        )
    return results


def system_checks(production: bool = False, worker: bool = True) -> list[tuple[bool, str, str]]:
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
        results.append((False, "database reachable", db_error_message(exc)))
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
            results.append((False, "migrations", db_error_message(exc)))
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
    results.extend(free_space_checks())
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
    if db_ok:
        from helpdesk.jobs.worker import health_checks

        results.extend(health_checks(worker=worker))
    if production:
        results.extend(production_warnings())
    return results


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
