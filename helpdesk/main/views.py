"""Dashboard and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.tickets import services as tickets

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def dashboard():  # type: ignore[no-untyped-def]
    actor = current_user._get_current_object()
    counts = tickets.status_counts(actor)
    recent = tickets.list_tickets(actor, tickets.TicketFilters(sort="updated"), limit=10).items
    return render_template("main/dashboard.html", counts=counts, recent=recent)


@bp.route("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, never raise: this is the probe
        db.session.rollback()
        return jsonify(status="fail", database=type(exc).__name__), 503
    return jsonify(status="ok", database=database)
