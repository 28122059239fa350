"""Sign in, sign out, change password, keep the session alive."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user

from helpdesk.audit.services import record
from helpdesk.auth.forms import ChangePasswordForm, LoginForm
from helpdesk.auth.session import end_session, is_api_request, remaining_seconds, start_session
from helpdesk.db import once_committed
from helpdesk.errors import InvalidInput, TooManyRequests
from helpdesk.extensions import db, limiter
from helpdesk.signals import user_sessions_revoked
from helpdesk.transaction import unit_of_work
from helpdesk.users import services as users
from helpdesk.users.names import normalize_username
from helpdesk.web import keep_on_error

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("main.dashboard")


# --- brute force -------------------------------------------------------------------
# Failed sign-ins (401 answers) are counted per client IP and per submitted user name,
# known or not, in the limiter's storage (Redis when REDIS_URL is set, memory otherwise).
# Past the limit every attempt, right password included, gets 429 + Retry-After.
# The lock-out grows: each refused attempt during a lock-out counts towards the meta
# limits, which block that IP / user name for the rest of the hour, then of the day.


def _key_prefix() -> str:
    # Our own prefix on the key: Flask-Limiter leaves meta-limit keys unprefixed.
    return str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "helpdesk")


def _login_ip_key() -> str:
    return f"{_key_prefix()}:login-ip:" + (request.remote_addr or "unknown")


def _login_user_key() -> str:
    # Keyed by the account the name resolves to, so no other spelling of it (case,
    # full-width, a collation's idea of equal) starts a fresh count; names that resolve
    # to nobody are keyed by their normalised text.
    raw = (request.form.get("username") or "")[:254]
    user = users.find_by_username(raw)
    who = f"id:{user.id}" if user is not None else "name:" + normalize_username(raw)
    return f"{_key_prefix()}:login-user:{who}"


def _limit(key: str):
    return lambda: str(current_app.config.get(key) or "")


def _failed_login(response) -> bool:
    return bool(response.status_code == 401)


def _record_lockout(limit: RequestLimit) -> None:
    # Runs in the limiter's check before the view (whose answer is then a 429), so it
    # is its own unit of work: the lock-out is audited although the request is refused.
    with unit_of_work():
        _audit_lockout(limit)


def _audit_lockout(limit: RequestLimit) -> None:
    record(
        "auth.locked_out",
        ip=request.remote_addr,
        username=(request.form.get("username") or "")[:64],
        limit=str(limit.limit),
        by="ip" if ":login-ip:" in str(limit.key) else "username",
    )


_login_limits: dict[str, Any] = {
    "methods": ["POST"],
    "deduct_when": _failed_login,
    "on_breach": _record_lockout,
}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_IP"),
    key_func=_login_ip_key,
    meta_limits=[_limit("LOGIN_LOCKOUT_HOUR"), _limit("LOGIN_LOCKOUT_DAY")],
    **_login_limits,
)
@limiter.limit(
    _limit("LOGIN_LIMIT_PER_USER"),
    key_func=_login_user_key,
    meta_limits=[_limit("LOGIN_LOCKOUT_HOUR"), _limit("LOGIN_LOCKOUT_DAY")],
    **_login_limits,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    if request.args.get("expired") == "1" and not session.get("_flashes"):
        flash(_("Your session expired after inactivity. Please sign in again."), "warning")
    form = LoginForm()
    if form.validate_on_submit():
        result = users.authenticate(form.username.data, form.password.data, ip=request.remote_addr)
        if result.user is None:
            keep_on_error()  # the 401 keeps the failed-login audit row
            form.password.errors.append(_("Wrong user name or password."))
        else:
            from helpdesk.twofactor import services as twofactor
            from helpdesk.twofactor.views import begin_sign_in

            if twofactor.is_enabled(result.user):  # the redirect commits the audit row
                return begin_sign_in(result.user, _safe_next(request.args.get("next")))
            start_session(result.user)
            login_user(result.user)
            if result.user.must_change_password:
                flash(_("Please choose a new password before you continue."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if request.method == "GET" or not form.errors else 401
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if user is not None:
        record("auth.logout", actor=user, ip=request.remote_addr)
    end_session()
    if user is not None:
        once_committed(db.session, lambda: user_sessions_revoked.send(user, reason="logout"))
    flash(_("You have signed out."), "info")
    if is_api_request():
        return jsonify(ok=True, login_url=url_for("auth.login"))
    return redirect(url_for("auth.login"))


@bp.route("/session/keepalive", methods=["POST"])
@login_required
def keepalive():
    """ "Stay signed in": the request itself refreshed the idle clock (auth/session.py);
    the answer tells every tab the new deadlines."""
    return jsonify(remaining_seconds())


@bp.route("/session/status")
@login_required
def session_status():
    """Read-only: the deadlines as the server sees them (never extends the session)."""
    return jsonify(remaining_seconds())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = users.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            )
        except (InvalidInput, TooManyRequests) as exc:
            # The failed-check audit row is kept (nothing else was changed): no roll back.
            keep_on_error()
            getattr(form, exc.field or "new_password").errors.append(exc.message)
            if isinstance(exc, TooManyRequests):
                page = render_template("auth/change_password.html", form=form)
                return page, 429, {"Retry-After": str(exc.retry_after)}
        else:
            login_user(user)  # the session id now carries the new session_version
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)
