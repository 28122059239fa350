"""Sign in, sign out, change password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from helpdesk.auth.forms import ChangePasswordForm, LoginForm
from helpdesk.auth.session import start_session
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.signals import user_sessions_revoked
from helpdesk.users import services as users

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


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        result = users.authenticate(form.username.data, form.password.data, ip=request.remote_addr)
        if result.user is None:
            db.session.commit()  # keep the failed-login audit row
            form.password.errors.append(_("Wrong user name or password."))
        else:
            start_session(result.user)
            login_user(result.user)
            db.session.commit()
            if result.user.must_change_password:
                flash(_("Please choose a new password before you continue."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    status = 200 if request.method == "GET" or not form.errors else 401
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        logout_user()
        user_sessions_revoked.send(user, reason="logout")
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = users.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
            )
        except InvalidInput as exc:
            getattr(form, exc.field or "new_password").errors.append(exc.message)
        else:
            db.session.commit()
            login_user(user)  # the session id now carries the new session_version
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form)
