"""Session rules: idle timeout and absolute lifetime enforced on the server,
forced password change, and the Flask-Login user loader."""

from __future__ import annotations

import time

from flask import Flask, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from helpdesk.extensions import db, login_manager
from helpdesk.users.models import User

# Endpoints reachable while a password change is pending or without a session.
OPEN_ENDPOINTS = {"auth.login", "auth.logout", "auth.change_password", "main.healthz", "static"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Session ids carry the session_version: a reset, deactivation or role change ends them."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or str(user.session_version) != raw_version:
        return None
    return user


def _is_api_request() -> bool:
    return (
        request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.accept_mimetypes.best == "application/json"
        or request.is_json
    )


@login_manager.unauthorized_handler
def _unauthorized():  # type: ignore[no-untyped-def]
    if _is_api_request():
        return jsonify(error=401, message=_("Your session has ended; please sign in again.")), 401
    flash(_("Please sign in to continue."), "info")
    return redirect(
        url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    )


def start_session(user: User) -> None:
    """Fresh session contents at login (no fixation), with the clocks started."""
    session.clear()
    session.permanent = False
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


def register(app: Flask) -> None:
    @app.before_request
    def _enforce_session():  # type: ignore[no-untyped-def]
        if request.endpoint in ("static", "main.healthz"):
            return None
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        idle = app.config["SESSION_TIMEOUT_MINUTES"] * 60
        absolute = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        seen = int(session.get("seen_at", 0))
        login_at = int(session.get("login_at", 0))
        if now - seen > idle or now - login_at > absolute:
            logout_user()
            session.clear()
            if _is_api_request():
                return jsonify(error=401, message=_("Your session has expired.")), 401
            flash(_("Your session expired after inactivity. Please sign in again."), "warning")
            return redirect(url_for("auth.login"))
        # Background polling must not keep a session alive forever.
        if request.headers.get("X-Session-Passive") != "1":
            session["seen_at"] = now
        if current_user.must_change_password and request.endpoint not in OPEN_ENDPOINTS:
            if _is_api_request():
                return jsonify(error=403, message=_("Change your password first.")), 403
            flash(_("Please choose a new password before you continue."), "warning")
            return redirect(url_for("auth.change_password"))
        return None
