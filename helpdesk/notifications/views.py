"""The notifications page; mark one or all read (POST + CSRF, form or fetch)."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import login_required

from helpdesk.errors_http import wants_json
from helpdesk.inputs import id_arg
from helpdesk.notifications import services
from helpdesk.notifications.forms import MarkReadForm
from helpdesk.web import current_actor as _actor

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def index():
    page = services.list_notifications(_actor(), before=request.args.get("before", type=id_arg))
    return render_template(
        "notifications/index.html",
        page=page,
        describe=services.describe,
        target_url=services.target_url,
        form=MarkReadForm(),
        unread=services.unread_count(_actor()),
    )


@bp.route("/count")
@login_required
def count():
    from helpdesk.chat.services import unread_total

    actor = _actor()
    return jsonify(notifications=services.unread_count(actor), chat=unread_total(actor))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    # CSRF is checked for every POST by CSRFProtect (form field or X-CSRFToken header).
    actor = _actor()
    n = services.mark_read(actor, notification_id)
    if wants_json():
        return jsonify(ok=True, unread=services.unread_count(actor))
    # "Open" on a notification marks it read and goes where it points.
    if request.form.get("go"):
        return redirect(services.target_url(n))
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    services.mark_all_read(_actor())
    if wants_json():
        return jsonify(ok=True, unread=0)
    return redirect(url_for("notifications.index"))
