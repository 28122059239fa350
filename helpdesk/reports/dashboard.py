"""Dashboard figures, report summaries and exports.

Every number here starts from the ticket list's own query
(`tickets.services.filtered_tickets` → `visible_tickets` → `visible_clause`), so a
figure can never count a ticket its reader could not open. Figures are aggregate
SQL (GROUP BY on indexed columns); tickets are never loaded into Python to be
counted. Each dashboard figure is ONE function so its query can be swapped (a
summary table, a cache) without touching the views.

Definitions (shown on the dashboard too):
- "resolved today": resolved_at within the current UTC day, whatever the status now.
- "overdue": open / in progress / waiting and created longer ago than
  OVERDUE_DAYS[priority] days (urgent 1, high 3, medium 7, low 14).
- average first response: first_response_at - created_at; average resolution:
  resolved_at - created_at; both over the visible tickets created in the chosen
  range (the dashboard's "last N days": N UTC days, today included, like the trend).

The figures over days (averages, trend, resolved today, overdue) read the
per-day rows of `helpdesk.tickets.daily`, the counts the counter rows of
`helpdesk.tickets.counters`: a few rows per day, flat as the desk grows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask_babel import format_percent
from sqlalchemy import case, func, select, union_all

from helpdesk.db import utcnow
from helpdesk.errors import InvalidInput, PermissionDenied
from helpdesk.extensions import db
from helpdesk.reports import permissions as perm
from helpdesk.reports.common import OPEN_STATUSES, enum_value, humanise_seconds, where_clause
from helpdesk.tickets import counters, daily
from helpdesk.tickets import queries as tickets
from helpdesk.tickets.labels import PRIORITY_LABELS, STATUS_LABELS
from helpdesk.tickets.models import Category, Priority, Status, Ticket
from helpdesk.users.models import User

OVERDUE_DAYS: dict[Priority, int] = {
    Priority.URGENT: 1,
    Priority.HIGH: 3,
    Priority.MEDIUM: 7,
    Priority.LOW: 14,
}
TREND_DAYS = (7, 14, 30, 90, 180, 365)
DEFAULT_TREND_DAYS = 30


def status_counts(actor: User) -> dict[str, int]:
    """Tickets per status (the open / in progress / waiting cards and the doughnut)."""
    return tickets.status_counts(actor)


def priority_counts(actor: User) -> dict[str, int]:
    """Tickets per priority, from the maintained counters (no table scan)."""
    counts = {p.value: 0 for p in Priority}
    for priority, n in counters.breakdown(actor, "priority"):
        counts[enum_value(priority)] += n
    return counts


def category_counts(actor: User) -> list[dict[str, Any]]:
    """[{id, name, count}] busiest first; names come from the small categories table."""
    rows = counters.breakdown(actor, "category_id")
    names = dict(db.session.execute(select(Category.id, Category.name)).all())
    result = [{"id": cid, "name": names.get(cid, str(cid)), "count": int(n)} for cid, n in rows]
    result.sort(key=lambda r: (-r["count"], r["name"]))
    return result


def window(days: int, now: datetime | None = None) -> tuple[date, date]:
    """The last `days` UTC days, today included, as (first day, today)."""
    today = (now or utcnow()).date()
    return today - timedelta(days=days - 1), today


def resolved_today(actor: User, now: datetime | None = None) -> int:
    """Tickets resolved during the current UTC day (from the per-day rows)."""
    first, today = window(1, now)
    return daily.total(daily.figures(actor, first, today)).resolved_on_n


def overdue_count(actor: User, now: datetime | None = None) -> int:
    """Open tickets past their priority's limit (created before now - OVERDUE_DAYS[p]).

    All open ones (counters) minus the recent ones.  Recent = open tickets of
    priority p created after its limit: whole days from the per-day rows, and the
    part of the limit's own day after the limit hour from the tickets (at most
    one day per priority, an index range on created_at).
    """
    now = (now or utcnow()).replace(tzinfo=None)
    open_total = sum(n for _p, n in counters.breakdown(actor, "priority", statuses=OPEN_STATUSES))
    first, today = window(max(OVERDUE_DAYS.values()) + 1, now)
    per_day = daily.figures(actor, first, today, by_priority=True)
    recent = 0
    parts = []
    for priority, days in OVERDUE_DAYS.items():
        limit = now - timedelta(days=days)
        recent += sum(
            f.open_n
            for (day, p), f in per_day.items()
            if p == priority and day > limit.date().isoformat()
        )
        next_midnight = datetime.combine(limit.date() + timedelta(days=1), datetime.min.time())
        # One created_at range per priority, read from the covering index: the
        # priority is counted in the SELECT (not the WHERE, which could tempt a
        # planner to intersect with the priority index), and UNION ALL rather
        # than OR (SQLite answers an OR of ranges by fetching every table row).
        parts.append(
            select(func.coalesce(func.sum(case((Ticket.priority == priority, 1), else_=0)), 0))
            .select_from(Ticket)
            .where(
                where_clause(actor),
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.created_at >= limit,
                Ticket.created_at < next_midnight,
            )
        )
    recent += sum(int(n or 0) for n in db.session.scalars(union_all(*parts)))
    return int(open_total - recent)


def average_times(actor: User, first_day: date, last_day: date) -> dict[str, float | None]:
    """Average first response and resolution in seconds over the tickets created from
    `first_day` to `last_day` (UTC days, both included); None when nothing to average
    (tickets without a response / resolution do not count)."""
    window = daily.total(daily.figures(actor, first_day, last_day))
    return {
        "first_response": window.average_seconds("response_ms", "responded_n"),
        "resolution": window.average_seconds("resolution_ms", "resolved_n"),
    }


def created_vs_resolved(actor: User, days: int, now: datetime | None = None) -> dict[str, list]:
    """Tickets created and resolved per UTC day over the last `days` days (today included)."""
    first_day, today = window(days, now)
    per_day = daily.figures(actor, first_day, today)
    labels = [(first_day + timedelta(days=i)).isoformat() for i in range(days)]
    empty = daily.Figures()
    return {
        "days": labels,
        "created": [per_day.get((d, None), empty).created_n for d in labels],
        "resolved": [per_day.get((d, None), empty).resolved_on_n for d in labels],
    }


def technician_workload(actor: User) -> dict[str, Any]:
    """Open tickets per technician, split by priority (administrators only)."""
    if not perm.can_see_workload(actor):
        raise PermissionDenied("Only administrators can compare technicians' workload.")
    rows = [
        r
        for r in counters.breakdown(actor, "assignee_key", "priority", statuses=OPEN_STATUSES)
        if r[0] != 0  # the unassigned queue is nobody's workload
    ]
    ids = sorted({r[0] for r in rows})
    people = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    )
    per: dict[int, dict[str, int]] = {i: {p.value: 0 for p in Priority} for i in ids}
    for assignee_id, priority, n in rows:
        per[assignee_id][enum_value(priority)] = int(n)
    order = sorted(ids, key=lambda i: (-sum(per[i].values()), people[i].display_name.lower()))
    return {
        "technicians": [{"id": i, "name": people[i].display_name} for i in order],
        "priorities": [p.value for p in Priority],  # stacking order (JSON objects are unordered)
        "series": {p.value: [per[i][p.value] for i in order] for p in Priority},
    }


def dashboard_data(actor: User, days: int = DEFAULT_TREND_DAYS) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON-ready data with translated labels."""
    if days not in TREND_DAYS:
        raise InvalidInput(
            "days must be one of: %(allowed)s.",
            allowed=", ".join(map(str, TREND_DAYS)),
            field="days",
        )
    now = utcnow()
    statuses = status_counts(actor)
    priorities = priority_counts(actor)
    categories = category_counts(actor)
    averages = average_times(actor, *window(days, now))
    data: dict[str, Any] = {
        "generated_at": now.replace(tzinfo=timezone.utc).isoformat(),
        "days": days,
        "cards": {
            "open": statuses[Status.OPEN.value],
            "in_progress": statuses[Status.IN_PROGRESS.value],
            "waiting": statuses[Status.WAITING.value],
            "resolved_today": resolved_today(actor, now),
            "overdue": overdue_count(actor, now),
            **_sla_cards(actor, days, now),
            "avg_first_response": averages["first_response"],
            "avg_first_response_text": humanise_seconds(averages["first_response"]),
            "avg_resolution": averages["resolution"],
            "avg_resolution_text": humanise_seconds(averages["resolution"]),
        },
        "status": {
            "keys": [s.value for s in Status],
            "labels": [str(STATUS_LABELS[s]) for s in Status],
            "counts": [statuses[s.value] for s in Status],
        },
        "priority": {
            "keys": [p.value for p in Priority],
            "labels": [str(PRIORITY_LABELS[p]) for p in Priority],
            "counts": [priorities[p.value] for p in Priority],
        },
        "category": {
            "keys": [c["id"] for c in categories],
            "labels": [c["name"] for c in categories],
            "counts": [c["count"] for c in categories],
        },
        "trend": created_vs_resolved(actor, days, now),
        "overdue_days": {p.value: d for p, d in OVERDUE_DAYS.items()},
        "workload": None,
    }
    if perm.can_see_workload(actor):
        workload = technician_workload(actor)
        workload["priority_labels"] = {p.value: str(PRIORITY_LABELS[p]) for p in Priority}
        data["workload"] = workload
    return data


def _sla_cards(actor: User, days: int, now: datetime) -> dict[str, Any]:
    """Service levels: breached / at risk now, and the shares met in the period."""
    from helpdesk.sla import figures

    counts = figures.breached_and_at_risk(actor, now)
    shares = figures.met_shares(actor, *window(days, now))

    def pct(value: float | None) -> str:
        return "–" if value is None else format_percent(value / 100, "#,##0.#%")

    return {
        "sla_breached": counts["breached"],
        "sla_at_risk": counts["at_risk"],
        "sla_first_response_met": shares["first_response"],
        "sla_first_response_met_text": pct(shares["first_response"]),
        "sla_resolution_met": shares["resolution"],
        "sla_resolution_met_text": pct(shares["resolution"]),
    }
