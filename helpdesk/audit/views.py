"""The audit log, for administrators."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from helpdesk.audit.services import audit_query
from helpdesk.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.route("")
@login_required
def index():  # type: ignore[no-untyped-def]
    if not current_user.is_admin:
        abort(403)
    action = request.args.get("action") or None
    before = request.args.get("before", type=int)
    query = audit_query(current_user._get_current_object(), action=action, before=before)
    rows = list(db.session.scalars(query.limit(51)))
    next_before = rows[49].id if len(rows) > 50 else None
    return render_template(
        "audit/index.html", rows=rows[:50], action=action or "", next_before=next_before
    )
