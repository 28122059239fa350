"""Dashboard and health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import text

from helpdesk.errors_http import rollback_quietly
from helpdesk.extensions import db
from helpdesk.reports import services as reports
from helpdesk.tickets import services as tickets

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def dashboard():
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
def dashboard_data():
    actor = current_user._get_current_object()
    try:
        days = int(request.args.get("days", reports.DEFAULT_TREND_DAYS))
    except ValueError:
        days = -1  # rejected by the service with a clear message
    response = jsonify(reports.dashboard_data(actor, days))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz():
    """Each dependency's state. 503 only when the database is down (nothing works);
    Redis down is "degraded": pages work, real time between processes does not."""
    checks = {"database": _database_state()}
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        checks["redis"] = _redis_state(redis_url)
    down = [name for name, state in checks.items() if state != "ok"]
    status = "fail" if "database" in down else ("degraded" if down else "ok")
    # A worker that is late or missing delays background work but loses nothing:
    # the web itself is healthy, so the status does not change and the field tells.
    worker = _worker_state() if "database" not in down else "unknown"
    response = jsonify(status=status, down=down, worker=worker, **checks)
    response.status_code = 503 if status == "fail" else 200
    return response


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # report, never raise: this is the probe
        rollback_quietly()
        return f"down: {type(exc).__name__}"
    return "ok"


def _worker_state() -> str:
    from helpdesk.jobs.worker import worker_status

    try:
        return str(worker_status())
    except Exception:  # the jobs tables are not there yet (before init-db)
        rollback_quietly()
        return "none"


def _redis_state(url: str) -> str:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - the probe reports, never raises
        return f"down: {type(exc).__name__}"
    return "ok"
