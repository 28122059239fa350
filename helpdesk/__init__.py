"""Helpdesk: a self-hosted help desk (Flask + SQLAlchemy + Socket.IO)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from helpdesk.config import PACKAGE_DIR, load_settings

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def _async_mode() -> str:
    """gevent when running under a monkey-patched gevent worker, threads otherwise."""
    try:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    except ImportError:
        pass
    return "threading"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings()
    app = Flask(__name__, instance_path=str(Path(settings.instance_dir).resolve()))
    app.config.update(settings.flask_config())
    if config:
        app.config.update(config)
        if "SQLALCHEMY_DATABASE_URI" in config and "SQLALCHEMY_ENGINE_OPTIONS" not in config:
            from helpdesk.config import engine_options

            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
                config["SQLALCHEMY_DATABASE_URI"]
            )
        if "MAX_CONTENT_LENGTH" not in config and (
            "MAX_UPLOAD_MB" in config or "MAX_FILES_PER_UPLOAD" in config
        ):
            from helpdesk.config import max_content_length

            app.config["MAX_CONTENT_LENGTH"] = max_content_length(
                int(app.config["MAX_UPLOAD_MB"]), int(app.config["MAX_FILES_PER_UPLOAD"])
            )
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    from helpdesk.inputs import HelpdeskRequest, IdConverter

    # Before any route is added: every <int:...> in every blueprint is bounded.
    app.url_map.converters["int"] = IdConverter
    app.request_class = HelpdeskRequest

    _init_extensions(app)
    _trust_proxies(app)
    _register_blueprints(app)

    from helpdesk.web import boundary

    boundary.register(app)  # every view: one transaction, committed once
    from helpdesk import errors_http, security_http, templating
    from helpdesk.auth import session as auth_session

    auth_session.register(app)
    errors_http.register(app)
    security_http.register(app)
    templating.register(app)

    from helpdesk.cli import register_commands

    register_commands(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind nginx the client address arrives in X-Forwarded-For and the scheme in
    X-Forwarded-Proto; without this, per-IP login limits and the audit log would see only
    the proxy's address. Exactly the headers deploy/nginx.conf sets, each for exactly
    TRUSTED_PROXIES hops: X-Forwarded-Host/-Port/-Prefix are never read (nginx passes
    Host itself), so a client cannot name another host. Wrapped last, outside Socket.IO's
    middleware, so the socket handshake sees the same corrected address and scheme."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask declares wsgi_app as a method; wrapping it is the documented way anyway.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0
        )


def _init_extensions(app: Flask) -> None:
    from helpdesk import models  # noqa: F401  (every table registered before migrate)
    from helpdesk.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
    from helpdesk.i18n import select_locale

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    # One SocketIO object serves every app of the process (tests build many): forget
    # the Redis client manager an earlier app with REDIS_URL left in its options,
    # or an app without Redis would still publish through it.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE") or _async_mode(),
        message_queue=app.config.get("REDIS_URL") or None,
        channel=f"{app.config.get('REDIS_PREFIX', 'helpdesk')}-socketio",
        # Never "*": same origin or SOCKETIO_ALLOWED_ORIGINS; the connect
        # handler checks again (the test client skips this HTTP layer).
        cors_allowed_origins=_origin_checker(app),
        manage_session=False,
        max_http_buffer_size=64 * 1024,
    )
    from helpdesk import chat, jobs, mail, notifications, realtime, sla, tickets

    realtime.init_app(app)  # the transport first; the features bind to it
    notifications.init_app(app)
    tickets.init_app(app)
    chat.init_app(app)
    jobs.init_app(app)
    sla.init_app(app)
    mail.init_app(app)


def _origin_checker(app: Flask) -> Callable[[str | None, dict[str, Any]], bool]:
    from helpdesk.realtime.permissions import origin_allowed

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        return origin_allowed(origin, environ, app.config.get("SOCKETIO_ALLOWED_ORIGINS") or ())

    return check


def _register_blueprints(app: Flask) -> None:
    from helpdesk.admin.views import bp as admin_bp
    from helpdesk.attachments.views import bp as attachments_bp
    from helpdesk.audit.views import bp as audit_bp
    from helpdesk.auth.views import bp as auth_bp
    from helpdesk.chat.views import bp as chat_bp
    from helpdesk.desk.views import bp as desk_bp
    from helpdesk.main.views import bp as main_bp
    from helpdesk.notifications.views import bp as notifications_bp
    from helpdesk.privacy.views import bp as privacy_bp
    from helpdesk.reports.views import bp as reports_bp
    from helpdesk.sla.views import bp as sla_bp
    from helpdesk.tickets.views import bp as tickets_bp
    from helpdesk.twofactor.views import bp as twofactor_bp
    from helpdesk.users.views import bp as users_bp

    for bp in (
        auth_bp,
        main_bp,
        tickets_bp,
        attachments_bp,
        admin_bp,
        audit_bp,
        users_bp,
        reports_bp,
        sla_bp,
        desk_bp,
        privacy_bp,
    ):
        app.register_blueprint(bp)
    for bp in (chat_bp, notifications_bp, twofactor_bp):
        app.register_blueprint(bp)
