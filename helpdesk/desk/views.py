"""Branding page, the desk stylesheet and logo, and dismissing the setup checklist."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from helpdesk.desk import services
from helpdesk.desk.forms import BrandingForm
from helpdesk.desk.permissions import can_manage_desk
from helpdesk.errors import HelpdeskError
from helpdesk.tickets.forms import EmptyForm
from helpdesk.web import current_actor as _actor
from helpdesk.web import form_error

bp = Blueprint("desk", __name__)


def _branding_for_request() -> services.Branding:
    """Read once per request: base.html asks for it several times. (Kept on the request,
    not on `g`: an app context can outlive a request, e.g. in a shell or the tests.)"""
    if not has_request_context():
        return services.branding()
    cached = getattr(request, "_desk_branding", None)
    if cached is None:
        cached = services.branding()
        setattr(request, "_desk_branding", cached)  # noqa: B010  (not a declared attribute)
    return cached


def _setup_checklist() -> list[services.ChecklistItem]:
    return services.checklist_to_show(_actor())


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(
        desk_branding=_branding_for_request,
        setup_checklist=_setup_checklist,
        dismiss_form=EmptyForm,
    )


@bp.route("/admin/branding", methods=["GET", "POST"])
@login_required
def branding():
    actor = _actor()
    if not can_manage_desk(actor):
        abort(403)
    look = services.branding()
    form = BrandingForm(data={"name": look.name, "color": look.color})
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            services.update_branding(
                actor,
                name=form.name.data,
                color=form.color.data.strip(),
                logo=upload.read(services.LOGO_MAX_BYTES + 1) if upload else None,
                remove_logo=bool(form.remove_logo.data),
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Branding saved."), "success")
            return redirect(url_for("desk.branding"))
    return render_template("desk/branding.html", form=form, look=look), (
        400 if form.errors else 200
    )


@bp.route("/branding.css")
def theme_css():
    """The desk colour as Bootstrap variables; the URL carries the version, so it is
    cached for long and a change shows at once."""
    response = Response(services.theme_css(services.branding()), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.route("/branding/logo")
def logo():
    found = services.logo_path()
    if found is None:  # no logo (yet): the default mark
        return redirect(url_for("static", filename="favicon.svg"))
    path, content_type = found
    response = send_file(path, mimetype=content_type, max_age=31536000)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/setup/dismiss", methods=["POST"])
@login_required
def dismiss_checklist():
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.dismiss_checklist(_actor())
    except HelpdeskError:
        abort(403)
    flash(_("The setup checklist is hidden; everything stays under Administration."), "info")
    return redirect(url_for("main.dashboard"))
