"""The signed-in person's profile and the language/theme switches in the navbar."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required

from helpdesk.errors import Conflict, InvalidInput
from helpdesk.users import services
from helpdesk.users.forms import ProfileForm
from helpdesk.web import form_error

bp = Blueprint("users", __name__)


def _back() -> str:
    """Where a switch returns to: the page it was used on (same site only)."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("main.dashboard")


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.locale.data = user.locale or ""
        form.theme.data = user.theme or ""
    if form.validate_on_submit():
        try:
            services.update_profile(
                user,
                user,
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                locale=form.locale.data or None,
                theme=form.theme.data or None,
            )
        except (InvalidInput, Conflict) as exc:
            form_error(form, exc)
        else:
            refresh()  # the flash below is shown in the newly chosen language
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("users.profile"))
    status = 400 if form.errors else 200
    return render_template("users/profile.html", form=form), status


@bp.route("/account/language", methods=["POST"])
def language():
    """The language switch: saved in the profile when signed in, in the session before."""
    locale = request.form.get("locale", "")
    if locale not in services.LOCALES:
        raise InvalidInput("Language must be Spanish or English.", field="locale")
    if current_user.is_authenticated:
        services.update_profile(current_user, current_user, locale=locale)
    session["locale"] = locale
    return redirect(_back())


@bp.route("/account/theme", methods=["POST"])
@login_required
def theme():
    """The navbar toggle (fetch with X-CSRFToken): keep the choice for the next login."""
    value = (request.get_json(silent=True) or {}).get("theme") or request.form.get("theme")
    user = services.update_profile(current_user, current_user, theme=value or None)
    return jsonify(theme=user.theme)
