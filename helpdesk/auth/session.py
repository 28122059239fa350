"""Session rules: idle timeout and absolute lifetime enforced on the server, a
server-side login session per browser (so logout refuses copied cookies), forced
password change, and the Flask-Login user loader.

Clocks: `session["login_at"]` and `session["seen_at"]` are Unix seconds inside the signed
cookie (they cannot be forged); `clock()` is the one place that reads the time, so tests
can move it.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, flash, g, has_request_context, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from helpdesk.auth.services import close_login_session, login_session_valid, open_login_session
from helpdesk.extensions import db, login_manager
from helpdesk.transaction import unit_of_work
from helpdesk.users.models import User

# Endpoints reachable while a password change is pending or without a session.
OPEN_ENDPOINTS = {
    "auth.login",
    "twofactor.sign_in",
    "auth.logout",
    "auth.change_password",
    "auth.keepalive",
    "auth.session_status",
    "main.healthz",
    "static",
}


# ...and while staff must still set up two-factor sign-in.
ENROLMENT_ENDPOINTS = OPEN_ENDPOINTS | {
    "twofactor.settings",
    "twofactor.setup",
    "twofactor.confirm",
    "twofactor.sign_in",
}


def must_enrol(user: User) -> bool:
    from helpdesk.twofactor.services import must_enrol as required

    return required(user)


def may_hold_socket(user: Any) -> bool:
    """Who may open the live connection: signed in, no forced password change, no
    pending two-factor enrolment. The connect handler refuses the rest, and pages
    use the same rule so they do not open a socket that would be refused."""
    return bool(user.is_authenticated and not user.must_change_password and not must_enrol(user))


def clock() -> float:
    return time.time()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Session ids carry the session_version: a reset, deactivation or role change ends them.
    The cookie must also name a server-side login session that logout has not deleted."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or str(user.session_version) != raw_version:
        return None
    if has_request_context() and not login_session_valid(session.get("sid"), user.id):
        return None
    return user


def is_api_request() -> bool:
    """fetch/XHR callers get JSON errors (401/403), never an HTML page or a redirect."""
    return (
        request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.accept_mimetypes.best == "application/json"
        or request.is_json
    )


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    if is_api_request():
        return jsonify(error=401, message=_("Your session has ended; please sign in again.")), 401
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("auth.login", next=here() if request.method == "GET" else None))


def here() -> str:
    """This page's path and query, without the bare `?` `request.full_path` adds."""
    return request.full_path.removesuffix("?")


def start_session(user: User) -> None:
    """Fresh session contents at login (no fixation), with the clocks started and a new
    server-side session id."""
    session.clear()
    session.permanent = False
    row = open_login_session(
        user,
        ip=request.remote_addr,
        user_agent=request.headers.get("User-Agent", ""),
        lifetime_hours=int(_config("SESSION_ABSOLUTE_HOURS")),
    )
    now = int(clock())
    session["sid"] = row.id
    session["login_at"] = now
    session["seen_at"] = now


def end_session() -> None:
    """Logout or expiry: the server forgets the session id, then the cookie is emptied."""
    close_login_session(session.get("sid"))
    logout_user()
    session.clear()


def _config(key: str) -> int:
    from flask import current_app

    return int(current_app.config[key])


def remaining_seconds() -> dict[str, int]:
    """Seconds left before the idle timeout and before the absolute lifetime ends."""
    now = int(clock())
    idle = _config("SESSION_TIMEOUT_MINUTES") * 60
    absolute = _config("SESSION_ABSOLUTE_HOURS") * 3600
    return {
        "idle_timeout": idle,
        "idle_remaining": max(0, int(session.get("seen_at", 0)) + idle - now),
        "absolute_remaining": max(0, int(session.get("login_at", 0)) + absolute - now),
    }


def register(app: Flask) -> None:
    @app.context_processor
    def _session_clock() -> dict[str, Any]:
        return {"session_remaining": remaining_seconds}

    @app.before_request
    def _enforce_session() -> ResponseReturnValue | None:
        # Flask-Login caches the user on `g`, which lives as long as the app context: when
        # an outer app context is already pushed (tests, CLI-driven requests) it would carry
        # one request's user into the next. Each request loads its own.
        g.pop("_login_user", None)
        if request.endpoint in ("static", "main.healthz"):
            return None
        if not current_user.is_authenticated:
            if session.get("sid"):  # a cookie whose login session was ended elsewhere
                session.clear()
            return None
        left = remaining_seconds()
        if left["idle_remaining"] <= 0 or left["absolute_remaining"] <= 0:
            # Before any view, so not inside the HTTP boundary: its own unit of work.
            with unit_of_work():
                end_session()
            if is_api_request():
                return jsonify(error=401, message=_("Your session has expired.")), 401
            flash(_("Your session expired after inactivity. Please sign in again."), "warning")
            return redirect(url_for("auth.login"))
        # Background polling must not keep a session alive forever.
        if (
            request.headers.get("X-Session-Passive") != "1"
            and request.endpoint != "auth.session_status"
        ):
            session["seen_at"] = int(clock())
        if current_user.must_change_password and request.endpoint not in OPEN_ENDPOINTS:
            if is_api_request():
                return jsonify(error=403, message=_("Change your password first.")), 403
            flash(_("Please choose a new password before you continue."), "warning")
            return redirect(url_for("auth.change_password"))
        if request.endpoint not in ENROLMENT_ENDPOINTS and must_enrol(current_user):
            if is_api_request():
                return jsonify(error=403, message=_("Set up two-factor sign-in first.")), 403
            flash(_("Your desk requires two-factor sign-in: set it up to continue."), "warning")
            return redirect(url_for("twofactor.settings"))
        return None
