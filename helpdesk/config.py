"""Settings from the environment (and `.env`), validated once at start.

Every key is documented in `.env.example`.  A bad value stops the start with a
message that names the key and the fix, never a traceback deep in a request.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DEFAULT_INSTANCE_DIR = PROJECT_DIR / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says how to fix it."""


def _int(env: dict[str, str], key: str, default: int, minimum: int = 1) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{key}={raw!r} is not a whole number; set e.g. {key}={default}"
        ) from None
    if value < minimum:
        raise ConfigError(f"{key} must be at least {minimum} (got {value})")
    return value


def _rate(env: dict[str, str], key: str, default: str) -> str:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    from limits import parse

    try:
        parse(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a rate; write e.g. {key}={default}") from None
    return raw


def _load_dev_secret(instance_dir: Path) -> str:
    """In development a key is generated once and kept, so sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key, encoding="utf-8")
    with contextlib.suppress(OSError):  # Windows has no POSIX modes
        path.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Pick the drivers we ship (PyMySQL, psycopg 3) when the URL names none."""
    if url.startswith("mysql://") or url.startswith("mariadb://"):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    elif url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


@dataclass
class Settings:
    env: str = "development"
    secret_key: str = ""
    database_url: str = ""
    redis_url: str | None = None
    redis_prefix: str = "helpdesk"
    socketio_allowed_origins: tuple[str, ...] = ()
    password_context_words: tuple[str, ...] = ()
    presence_grace_seconds: int = 5
    realtime_check_seconds: int = 3
    chat_message_max: int = 2000
    chat_rate_limit: str = "20 per 10 seconds"
    upload_dir: Path = field(default_factory=lambda: DEFAULT_INSTANCE_DIR / "uploads")
    export_dir: Path = field(default_factory=lambda: DEFAULT_INSTANCE_DIR / "exports")
    max_upload_mb: int = 10
    max_files_per_upload: int = 5
    session_timeout_minutes: int = 5
    session_absolute_hours: int = 12
    default_locale: str = "es"
    admin_password: str | None = None
    trusted_proxies: int = 0
    instance_dir: Path = DEFAULT_INSTANCE_DIR
    jobs_backend: str = "sqlite"
    jobs_sqlite_path: Path = field(default_factory=lambda: DEFAULT_INSTANCE_DIR / "jobs.db")
    jobs_redis_prefix: str = "helpdesk"
    jobs_heartbeat_seconds: int = 15
    # Export job timings a deployment (or a test with real workers) may shorten:
    # EXPORT_HEARTBEAT_SECONDS, EXPORT_STALE_SECONDS, EXPORT_REQUEUE_SECONDS.
    export_timings: dict[str, float] = field(default_factory=dict)
    mail: dict[str, Any] = field(default_factory=dict)  # MAIL_* (helpdesk.mail.settings)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def flask_config(self) -> dict[str, Any]:
        return {
            "HELPDESK_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "REDIS_URL": self.redis_url,
            "UPLOAD_DIR": str(self.upload_dir),
            # Excel files built by export jobs (kept 24 h) in the background worker.
            "EXPORT_DIR": str(self.export_dir),
            "MAX_UPLOAD_MB": self.max_upload_mb,
            "MAX_FILES_PER_UPLOAD": self.max_files_per_upload,
            "MAX_CONTENT_LENGTH": max_content_length(self.max_upload_mb, self.max_files_per_upload),
            "SESSION_TIMEOUT_MINUTES": self.session_timeout_minutes,
            "SESSION_ABSOLUTE_HOURS": self.session_absolute_hours,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "ADMIN_PASSWORD": self.admin_password,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": self.production,
            "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_HEADERS_ENABLED": False,  # Retry-After is set on 429 by errors_http
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": self.redis_prefix,
            # Failed sign-ins per client IP / per user name, then growing lock-outs
            # (see auth/views.py).
            "LOGIN_LIMIT_PER_IP": "20/minute",
            "LOGIN_LIMIT_PER_USER": "5/minute",
            "LOGIN_LOCKOUT_HOUR": "10/hour",
            "LOGIN_LOCKOUT_DAY": "30/day",
            # wrong current passwords (change password, two-factor settings) per account
            "PASSWORD_CHECK_LIMIT": "5 per 15 minutes",
            "PASSWORD_CONTEXT_WORDS": self.password_context_words,
            # A Redis outage must not take HTTP down: limits fall back to memory.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            # Real time (see README "Real time"): Redis key/channel prefix, extra
            # Socket.IO origins, presence grace and the socket session re-check.
            "REDIS_PREFIX": self.redis_prefix,
            "SOCKETIO_ALLOWED_ORIGINS": list(self.socketio_allowed_origins),
            "PRESENCE_GRACE_SECONDS": self.presence_grace_seconds,
            "REALTIME_CHECK_SECONDS": self.realtime_check_seconds,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "CHAT_MESSAGE_MAX": self.chat_message_max,
            "CHAT_RATE_LIMIT": self.chat_rate_limit,
            # Background work (helpdesk/jobs): the queue, and the name of its keys in
            # Redis (a test uses its own); the worker's heartbeat period.
            "JOBS_BACKEND": self.jobs_backend,
            "JOBS_SQLITE_PATH": str(self.jobs_sqlite_path),
            "JOBS_REDIS_PREFIX": self.jobs_redis_prefix,
            "JOBS_HEARTBEAT_SECONDS": self.jobs_heartbeat_seconds,
            **self.export_timings,
            **self.mail,
        }


def max_content_length(max_upload_mb: int, max_files: int) -> int:
    """The request limit leaves room for every allowed file plus the form fields;
    each file's own limit is enforced by the attachments service."""
    return (max_upload_mb * max_files + 1) * 1024 * 1024


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_recycle": 1800}


def _mail_settings(environ: dict[str, str]) -> dict[str, Any]:
    from helpdesk.mail import settings as mail_settings

    try:
        return mail_settings.from_environ(environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: os.environ after loading `.env`)."""
    if environ is None:
        load_dotenv(PROJECT_DIR / ".env", override=False)
        environ = dict(os.environ)
    env = environ.get("HELPDESK_ENV", "development").strip() or "development"
    if env not in ("development", "production", "testing"):
        raise ConfigError(f"HELPDESK_ENV must be development or production (got {env!r})")
    instance_dir = Path(environ.get("HELPDESK_INSTANCE_DIR") or DEFAULT_INSTANCE_DIR)
    secret = environ.get("SECRET_KEY", "").strip()
    if not secret:
        if env == "production":
            raise ConfigError(
                "SECRET_KEY is not set. In production it is required: run "
                "`helpdesk generate-secret-key` and put the line it prints into .env "
                "(or the service's environment)."
            )
        secret = _load_dev_secret(instance_dir)
    elif env == "production" and len(secret) < 32:
        raise ConfigError(
            "SECRET_KEY is too short for production (at least 32 characters); "
            "run `helpdesk generate-secret-key` for a good one."
        )
    db_url = environ.get("DATABASE_URL", "").strip()
    if not db_url:
        instance_dir.mkdir(parents=True, exist_ok=True)
        db_url = "sqlite:///" + (instance_dir / "helpdesk.db").as_posix()
    db_url = normalise_database_url(db_url)
    if "://" not in db_url:
        raise ConfigError(
            f"DATABASE_URL={db_url!r} is not a database URL; use e.g. "
            "sqlite:///instance/helpdesk.db, mysql+pymysql://user:pass@host/db or "
            "postgresql+psycopg://user:pass@host/db"
        )
    locale = environ.get("DEFAULT_LOCALE", "es").strip() or "es"
    if locale not in ("es", "en"):
        raise ConfigError(f"DEFAULT_LOCALE must be es or en (got {locale!r})")
    upload_dir = Path(environ.get("UPLOAD_DIR") or instance_dir / "uploads")
    export_dir = Path(environ.get("EXPORT_DIR") or instance_dir / "exports")
    redis_url = environ.get("REDIS_URL", "").strip() or None
    redis_prefix = environ.get("REDIS_PREFIX", "").strip() or "helpdesk"
    jobs_backend = environ.get("JOBS_BACKEND", "").strip().lower() or (
        "redis" if redis_url else "sqlite"
    )
    if jobs_backend not in ("sqlite", "redis", "immediate"):
        raise ConfigError(
            f"JOBS_BACKEND={jobs_backend!r} is not sqlite, redis or immediate; leave it "
            "unset for sqlite (redis when REDIS_URL is set)"
        )
    if jobs_backend == "redis" and not redis_url:
        raise ConfigError("JOBS_BACKEND=redis needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    return Settings(
        env=env,
        secret_key=secret,
        database_url=db_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        presence_grace_seconds=_int(environ, "PRESENCE_GRACE_SECONDS", 5),
        realtime_check_seconds=_int(environ, "REALTIME_CHECK_SECONDS", 3),
        chat_message_max=_int(environ, "CHAT_MESSAGE_MAX", 2000),
        chat_rate_limit=_rate(environ, "CHAT_RATE_LIMIT", "20 per 10 seconds"),
        socketio_allowed_origins=tuple(
            o.strip().rstrip("/")
            for o in environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split(",")
            if o.strip()
        ),
        password_context_words=tuple(
            w.strip() for w in environ.get("PASSWORD_CONTEXT_WORDS", "").split(",") if w.strip()
        ),
        upload_dir=upload_dir,
        export_dir=export_dir,
        max_upload_mb=_int(environ, "MAX_UPLOAD_MB", 10),
        session_timeout_minutes=_int(environ, "SESSION_TIMEOUT_MINUTES", 5),
        session_absolute_hours=_int(environ, "SESSION_ABSOLUTE_HOURS", 12),
        trusted_proxies=_int(environ, "TRUSTED_PROXIES", 0, minimum=0),
        default_locale=locale,
        admin_password=environ.get("ADMIN_PASSWORD") or None,
        instance_dir=instance_dir,
        jobs_backend=jobs_backend,
        jobs_sqlite_path=Path(environ.get("JOBS_SQLITE_PATH") or instance_dir / "jobs.db"),
        jobs_redis_prefix=environ.get("JOBS_REDIS_PREFIX", "").strip() or redis_prefix,
        jobs_heartbeat_seconds=_int(environ, "JOBS_HEARTBEAT_SECONDS", 15),
        export_timings=_seconds_settings(
            environ, ("EXPORT_HEARTBEAT_SECONDS", "EXPORT_STALE_SECONDS", "EXPORT_REQUEUE_SECONDS")
        ),
        mail=_mail_settings(environ),
    )


def _seconds_settings(env: dict[str, str], keys: tuple[str, ...]) -> dict[str, float]:
    """The keys of `keys` that are set, as positive seconds (unset ones keep the code's
    default)."""
    out = {}
    for key in keys:
        raw = env.get(key, "").strip()
        if not raw:
            continue
        try:
            out[key] = float(raw)
        except ValueError:
            raise ConfigError(f"{key}={raw!r} is not a number of seconds; e.g. {key}=60") from None
        if out[key] <= 0:
            raise ConfigError(f"{key} must be more than 0 (got {raw})")
    return out
