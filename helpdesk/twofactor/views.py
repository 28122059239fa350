"""Two-factor pages: the profile's settings, enrolment, recovery codes, the sign-in step,
and the administrator's requirement and reset."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from helpdesk.auth.session import start_session
from helpdesk.errors import HelpdeskError, TooManyRequests
from helpdesk.extensions import db, limiter
from helpdesk.twofactor import services
from helpdesk.twofactor.forms import CodeForm, PasswordCheckForm, StaffRequirementForm
from helpdesk.users.models import User
from helpdesk.web import current_actor as _actor
from helpdesk.web import form_error

bp = Blueprint("twofactor", __name__)

PENDING_KEY = "2fa_pending"
PENDING_SECONDS = 300


def _failed(form, exc: HelpdeskError, template: str, **context):
    form_error(form, exc, keep=True)  # keep the audit row of the failed check
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
    return render_template(template, form=form, **context), exc.status_code, headers


def _settings_context() -> dict[str, Any]:
    actor = _actor()
    return {
        "enabled": services.is_enabled(actor),
        "required": services.must_enrol_after_disable(actor),
        "remaining": services.remaining_recovery_codes(actor),
    }


@bp.route("/account/two-factor")
@login_required
def settings():
    return render_template(
        "twofactor/settings.html", form=PasswordCheckForm(), **_settings_context()
    )


@bp.route("/account/two-factor/setup", methods=["POST"])
@login_required
def setup():
    form = PasswordCheckForm()
    if not form.validate_on_submit():
        return render_template("twofactor/settings.html", form=form, **_settings_context()), 400
    try:
        services.start_enrolment(_actor(), form.current_password.data)
    except HelpdeskError as exc:
        return _failed(form, exc, "twofactor/settings.html", **_settings_context())
    return redirect(url_for("twofactor.confirm"), 303)


@bp.route("/account/two-factor/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    actor = _actor()
    secret = services.pending_secret(actor)
    if secret is None:
        return redirect(url_for("twofactor.settings"))
    uri = services.provisioning_uri(actor, secret)
    context = {"qr": services.qr_svg(uri), "secret": secret}
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrolment(actor, form.code.data)
        except HelpdeskError as exc:
            return _failed(form, exc, "twofactor/confirm.html", **context)
        flash(_("Two-factor sign-in is on."), "success")
        return render_template("twofactor/codes.html", codes=codes)
    return render_template("twofactor/confirm.html", form=form, **context)


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def recovery_codes():
    form = PasswordCheckForm()
    try:
        if not form.validate_on_submit():
            abort(400)
        codes = services.regenerate_codes(_actor(), form.current_password.data)
    except HelpdeskError as exc:
        return _failed(form, exc, "twofactor/settings.html", **_settings_context())
    return render_template("twofactor/codes.html", codes=codes)


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
def disable():
    form = PasswordCheckForm()
    try:
        if not form.validate_on_submit():
            abort(400)
        services.disable(_actor(), form.current_password.data)
    except HelpdeskError as exc:
        return _failed(form, exc, "twofactor/settings.html", **_settings_context())
    flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("twofactor.settings"))


# ---------------------------------------------------------------- sign-in step


def begin_sign_in(user: User, next_url: str):
    """Called by the login view once the password was right: no session yet, only a
    short-lived note of who is half-way through."""
    session.clear()
    session[PENDING_KEY] = {"uid": user.id, "at": int(time.time()), "next": next_url}
    return redirect(url_for("twofactor.sign_in"))


def _pending_user() -> tuple[User | None, str]:
    note = session.get(PENDING_KEY)
    if not isinstance(note, dict) or int(time.time()) - int(note.get("at", 0)) > PENDING_SECONDS:
        return None, ""
    user = db.session.get(User, int(note.get("uid", 0)))
    if user is None or not user.active:
        return None, ""
    return user, str(note.get("next") or url_for("main.dashboard"))


def _ip_key() -> str:
    return "2fa-ip:" + (request.remote_addr or "unknown")


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(
    lambda: "20/minute",
    key_func=_ip_key,
    methods=["POST"],
    deduct_when=lambda r: r.status_code != 302,
)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    user, next_url = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            how = services.verify_sign_in(user, form.code.data)
        except HelpdeskError as exc:
            return _failed(form, exc, "twofactor/sign_in.html")
        start_session(user)
        login_user(user)
        if how == "recovery":
            flash(
                _(
                    "You used a recovery code; %(n)s are left.",
                    n=services.remaining_recovery_codes(user),
                ),
                "warning",
            )
        return redirect(next_url)
    return render_template("twofactor/sign_in.html", form=form)


# ---------------------------------------------------------------- administration


@bp.route("/admin/two-factor", methods=["GET", "POST"])
@login_required
def admin_requirement():
    actor = _actor()
    if not actor.is_admin:
        abort(403)
    form = StaffRequirementForm(data={"required": services.staff_required()})
    if form.validate_on_submit():
        services.set_staff_required(actor, bool(form.required.data))
        flash(_("Saved."), "success")
        return redirect(url_for("twofactor.admin_requirement"))
    return render_template("twofactor/admin.html", form=form)


@bp.route("/admin/users/<int:user_id>/two-factor/reset", methods=["POST"])
@login_required
def admin_reset(user_id: int):
    from helpdesk.users.services import get_user

    actor = _actor()
    if not actor.is_admin:
        abort(403)
    target = get_user(user_id)
    services.admin_reset(actor, target)
    flash(_("Two-factor sign-in was reset for %(name)s.", name=target.display_name), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))
