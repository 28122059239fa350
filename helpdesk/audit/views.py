"""The audit log, for administrators: filter by action (or family), person, IP and dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from helpdesk.audit.services import audit_query, known_actions
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.inputs import id_arg

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PAGE = 50


def _day(name: str) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Dates look like 2026-01-31.", field=name) from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


@bp.route("")
@login_required
def index():
    if not current_user.is_admin:
        abort(403)
    filters = {
        "action": (request.args.get("action") or "").strip()[:64],
        "actor": (request.args.get("actor") or "").strip()[:64],
        "ip": (request.args.get("ip") or "").strip()[:45],
        "since": (request.args.get("since") or "").strip(),
        "until": (request.args.get("until") or "").strip(),
    }
    until = _day("until")
    query = audit_query(
        current_user._get_current_object(),
        action=filters["action"] or None,
        actor_name=filters["actor"] or None,
        ip=filters["ip"] or None,
        since=_day("since"),
        until=until + timedelta(days=1) if until else None,  # the whole "until" day
        before=request.args.get("before", type=id_arg),
    )
    rows = list(db.session.scalars(query.limit(PAGE + 1)))
    next_before = rows[PAGE - 1].id if len(rows) > PAGE else None
    return render_template(
        "audit/index.html",
        rows=rows[:PAGE],
        filters=filters,
        actions=known_actions(),
        next_before=next_before,
    )
