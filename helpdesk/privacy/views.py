"""Admin actions on a person's data: download everything stored, or erase them."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from helpdesk.errors import HelpdeskError
from helpdesk.privacy import services
from helpdesk.tickets.forms import EmptyForm
from helpdesk.users import services as users
from helpdesk.web import current_actor as _actor
from helpdesk.web import flash_error

bp = Blueprint("privacy", __name__, url_prefix="/admin/users")


def _person(user_id: int):
    if not _actor().is_admin:
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return users.get_user(user_id)


@bp.route("/<int:user_id>/personal-data", methods=["POST"])
@login_required
def export(user_id: int):
    person = _person(user_id)
    try:
        name, data = services.export_person(_actor(), person)
    except HelpdeskError:
        abort(403)
    return Response(  # the boundary commits the audit row before the answer leaves
        data,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/<int:user_id>/erase", methods=["POST"])
@login_required
def erase(user_id: int):
    person = _person(user_id)
    back = redirect(url_for("admin.user_edit", user_id=user_id))
    if request.form.get("confirm", "").strip() != person.username:
        flash(_("Type the user name exactly to confirm the erasure."), "danger")
        return back
    try:
        services.erase_person(_actor(), person, mode=request.form.get("mode", "anonymise"))
    except HelpdeskError as exc:
        flash_error(exc)
        return back
    flash(_("The person was erased; their account can no longer sign in."), "success")
    return redirect(url_for("admin.users_list"))
