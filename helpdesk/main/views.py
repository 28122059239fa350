"""Dashboard and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.reports import services as reports
from helpdesk.tickets import services as tickets

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def dashboard():  # type: ignore[no-untyped-def]
    """The page shell; static/js/dashboard.js fetches the figures from dashboard_data."""
    actor = current_user._get_current_object()
    recent = tickets.list_tickets(actor, tickets.TicketFilters(sort="updated"), limit=10).items
    return render_template(
        "main/dashboard.html",
        recent=recent,
        trend_days=reports.TREND_DAYS,
        default_days=reports.DEFAULT_TREND_DAYS,
        overdue_days=reports.OVERDUE_DAYS,
    )


@bp.route("/dashboard/data")
@login_required
def dashboard_data():  # type: ignore[no-untyped-def]
    actor = current_user._get_current_object()
    try:
        days = int(request.args.get("days", reports.DEFAULT_TREND_DAYS))
    except ValueError:
        days = -1  # rejected by the service with a clear message
    response = jsonify(reports.dashboard_data(actor, days))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, never raise: this is the probe
        db.session.rollback()
        return jsonify(status="fail", database=type(exc).__name__), 503
    from helpdesk.jobs.worker import worker_status

    try:
        worker = worker_status()
    except Exception:  # the jobs tables are not there yet (before init-db)
        db.session.rollback()
        worker = "none"
    # A worker that is late or missing delays background work but loses nothing:
    # the web itself is healthy, so the status stays "ok" and the field tells.
    return jsonify(status="ok", database=database, worker=worker)
