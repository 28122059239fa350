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

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask_babel import format_datetime, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, func, select, true, union_all
from sqlalchemy.orm import aliased

from helpdesk.audit.services import record
from helpdesk.db import utcnow
from helpdesk.errors import InvalidInput, PermissionDenied
from helpdesk.extensions import db
from helpdesk.reports import permissions as perm
from helpdesk.reports.sqltime import seconds_between
from helpdesk.templating import PRIORITY_LABELS, STATUS_LABELS
from helpdesk.tickets import counters, daily
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Category, Priority, Status, Ticket
from helpdesk.tickets.services import TicketFilters
from helpdesk.users.models import User

OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.WAITING)
OVERDUE_DAYS: dict[Priority, int] = {
    Priority.URGENT: 1,
    Priority.HIGH: 3,
    Priority.MEDIUM: 7,
    Priority.LOW: 14,
}
TREND_DAYS = (7, 14, 30, 90, 180, 365)
DEFAULT_TREND_DAYS = 30
PDF_ROW_LIMIT = 5000
# Beyond this many rows Excel is built by a background job (reports.jobs): about a
# second of XlsxWriter's CPU here (~12,000 rows/s), which a gevent worker spends
# without serving anyone else.
XLSX_SLOW_ROWS = 10_000
EXPORT_BATCH = 2000
FONT_DIR = Path(__file__).resolve().parent.parent / "data"
DEBIAN_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Emoji in titles: DejaVu has none.  Debian's Noto Color Emoji (package
# fonts-noto-color-emoji, 11 MB, so not shipped) is used as a fallback font when
# installed; without it a PDF leaves emoji out and everything else is intact.
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


# ---------------------------------------------------------------- shared pieces


def _where(actor: User, filters: TicketFilters | None = None) -> ColumnElement[bool]:
    """The WHERE of the ticket list for `actor` and `filters` (visibility included)."""
    clause = tickets.filtered_tickets(actor, filters or TicketFilters()).whereclause
    return clause if clause is not None else true()


def _avg_seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _enum_value(value: Any) -> str:
    return value.value if hasattr(value, "value") else str(value)


def humanise_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return str(format_timedelta(timedelta(seconds=seconds), threshold=1.1))


def user_label(full_name: str | None, username: str | None) -> str:
    return full_name or username or ""


# ---------------------------------------------------------------- dashboard figures


def status_counts(actor: User) -> dict[str, int]:
    """Tickets per status (the open / in progress / waiting cards and the doughnut)."""
    return tickets.status_counts(actor)


def priority_counts(actor: User) -> dict[str, int]:
    """Tickets per priority, from the maintained counters (no table scan)."""
    counts = {p.value: 0 for p in Priority}
    for priority, n in counters.breakdown(actor, "priority"):
        counts[_enum_value(priority)] += n
    return counts


def category_counts(actor: User) -> list[dict[str, Any]]:
    """[{id, name, count}] busiest first; names come from the small categories table."""
    rows = counters.breakdown(actor, "category_id")
    names = dict(db.session.execute(select(Category.id, Category.name)).all())
    result = [{"id": cid, "name": names.get(cid, str(cid)), "count": int(n)} for cid, n in rows]
    result.sort(key=lambda r: (-r["count"], r["name"]))
    return result


def _window(days: int, now: datetime | None = None) -> tuple[date, date]:
    """The last `days` UTC days, today included, as (first day, today)."""
    today = (now or utcnow()).date()
    return today - timedelta(days=days - 1), today


def resolved_today(actor: User, now: datetime | None = None) -> int:
    """Tickets resolved during the current UTC day (from the per-day rows)."""
    first, today = _window(1, now)
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
    first, today = _window(max(OVERDUE_DAYS.values()) + 1, now)
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
                _where(actor),
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
    first_day, today = _window(days, now)
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
        raise PermissionDenied(_("Only administrators can compare technicians' workload."))
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
        per[assignee_id][_enum_value(priority)] = int(n)
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
            _("days must be one of: %(allowed)s.", allowed=", ".join(map(str, TREND_DAYS))),
            field="days",
        )
    now = utcnow()
    statuses = status_counts(actor)
    priorities = priority_counts(actor)
    categories = category_counts(actor)
    averages = average_times(actor, *_window(days, now))
    data: dict[str, Any] = {
        "generated_at": now.replace(tzinfo=timezone.utc).isoformat(),
        "days": days,
        "cards": {
            "open": statuses[Status.OPEN.value],
            "in_progress": statuses[Status.IN_PROGRESS.value],
            "waiting": statuses[Status.WAITING.value],
            "resolved_today": resolved_today(actor, now),
            "overdue": overdue_count(actor, now),
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


# ---------------------------------------------------------------- report summaries


@dataclass
class SummaryRow:
    key: Any
    label: str
    count: int
    open: int
    avg_first_response: float | None
    avg_resolution: float | None


@dataclass
class _Cell:
    """Sums for one (status, category, priority, assignee) group of the filtered tickets."""

    count: int = 0
    open: int = 0
    responded: int = 0
    response_seconds: float = 0.0
    resolved: int = 0
    resolution_seconds: float = 0.0

    def add(self, other: _Cell) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _cells(actor: User, filters: TicketFilters) -> list[tuple[tuple[Any, ...], _Cell]]:
    """The filtered tickets grouped by (status, category, priority, assignee) in ONE scan.

    Every summary table (and the total) is a re-grouping of these few thousand
    groups at most, so the page reads the matching tickets once instead of once
    per table: at a million tickets that is the difference between one pass and five.
    """
    keys = (Ticket.status, Ticket.category_id, Ticket.priority, Ticket.assignee_id)
    rows = db.session.execute(
        select(
            *keys,
            func.count(),
            func.count(Ticket.first_response_at),
            func.sum(seconds_between(Ticket.created_at, Ticket.first_response_at)),
            func.count(Ticket.resolved_at),
            func.sum(seconds_between(Ticket.created_at, Ticket.resolved_at)),
        )
        .where(_where(actor, filters))
        .group_by(*keys)
    )
    out = []
    for status, category_id, priority, assignee_id, n, responded, first, resolved, res in rows:
        status = Status(_enum_value(status))
        cell = _Cell(
            count=int(n),
            open=int(n) if status in OPEN_STATUSES else 0,
            responded=int(responded or 0),
            response_seconds=float(first or 0),
            resolved=int(resolved or 0),
            resolution_seconds=float(res or 0),
        )
        out.append(((status, category_id, Priority(_enum_value(priority)), assignee_id), cell))
    return out


def _regroup(
    cells: list[tuple[tuple[Any, ...], _Cell]], position: int, label: Any
) -> list[SummaryRow]:
    groups: dict[Any, _Cell] = {}
    for key, cell in cells:
        groups.setdefault(key[position], _Cell()).add(cell)
    return [
        SummaryRow(
            key=key,
            label=label(key),
            count=g.count,
            open=g.open,
            avg_first_response=_avg_seconds(g.response_seconds / g.responded)
            if g.responded
            else None,
            avg_resolution=_avg_seconds(g.resolution_seconds / g.resolved) if g.resolved else None,
        )
        for key, g in groups.items()
    ]


def _by_status(cells: list[tuple[tuple[Any, ...], _Cell]]) -> list[SummaryRow]:
    rows = _regroup(cells, 0, lambda k: str(STATUS_LABELS[k]))
    return sorted(rows, key=lambda r: list(Status).index(r.key))


def _by_category(cells: list[tuple[tuple[Any, ...], _Cell]]) -> list[SummaryRow]:
    names = dict(db.session.execute(select(Category.id, Category.name)).all())
    rows = _regroup(cells, 1, lambda k: names.get(k, str(k)))
    return sorted(rows, key=lambda r: (-r.count, r.label))


def _by_priority(cells: list[tuple[tuple[Any, ...], _Cell]]) -> list[SummaryRow]:
    rows = _regroup(cells, 2, lambda k: str(PRIORITY_LABELS[k]))
    return sorted(rows, key=lambda r: -list(Priority).index(r.key))


def _by_technician(cells: list[tuple[tuple[Any, ...], _Cell]]) -> list[SummaryRow]:
    ids = sorted({key[3] for key, _cell in cells if key[3] is not None})
    names = (
        {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
        if ids
        else {}
    )
    rows = _regroup(cells, 3, lambda k: _("Unassigned") if k is None else names.get(k, str(k)))
    return sorted(rows, key=lambda r: (r.key is None, -r.count, r.label))


def summary_by_category(actor: User, filters: TicketFilters) -> list[SummaryRow]:
    return _by_category(_cells(actor, filters))


def summary_by_priority(actor: User, filters: TicketFilters) -> list[SummaryRow]:
    return _by_priority(_cells(actor, filters))


def summary_by_status(actor: User, filters: TicketFilters) -> list[SummaryRow]:
    return _by_status(_cells(actor, filters))


def summary_by_technician(actor: User, filters: TicketFilters) -> list[SummaryRow]:
    if not perm.can_see_technician_summary(actor):
        raise PermissionDenied(_("Only staff can see the summary by technician."))
    return _by_technician(_cells(actor, filters))


def report_summary(actor: User, filters: TicketFilters) -> dict[str, Any]:
    """Total and the four summary tables, from one grouped read of the filtered tickets."""
    if not perm.can_view_reports(actor):
        raise PermissionDenied(_("You cannot see reports."))
    cells = _cells(actor, filters)
    return {
        "total": sum(cell.count for _key, cell in cells),
        "status": _by_status(cells),
        "category": _by_category(cells),
        "priority": _by_priority(cells),
        "technician": _by_technician(cells) if perm.can_see_technician_summary(actor) else None,
    }


def with_default_period(args: Any, today: date | None = None) -> Any:
    """The reports page's arguments, opening on the last DEFAULT_TREND_DAYS days.

    Like the dashboard, a report covers a period unless asked otherwise: the
    date field shows the default and can be changed; a date field sent empty
    (the form submitted with no date) means all time.  At a million tickets,
    summing everything ever filed on every visit would take seconds.
    """
    if "created_from" in args or "created_to" in args:
        return args
    first, _today = _window(
        DEFAULT_TREND_DAYS, today and datetime.combine(today, datetime.min.time())
    )
    out = args.copy()
    out["created_from"] = first.isoformat()
    return out


def describe_filters(filters: TicketFilters) -> list[tuple[str, str]]:
    """The filters applied, as (label, value) pairs a person can read."""
    out: list[tuple[str, str]] = []
    if filters.status:
        out.append((_("Status"), ", ".join(str(STATUS_LABELS[Status(s)]) for s in filters.status)))
    if filters.priority:
        out.append(
            (_("Priority"), ", ".join(str(PRIORITY_LABELS[Priority(p)]) for p in filters.priority))
        )
    if filters.category_id is not None:
        category = db.session.get(Category, filters.category_id)
        out.append((_("Category"), category.name if category else str(filters.category_id)))
    if filters.assignee:
        if filters.assignee == "me":
            value = _("Me")
        elif filters.assignee == "none":
            value = _("Unassigned")
        else:
            person = db.session.get(User, int(filters.assignee))
            value = person.display_name if person else filters.assignee
        out.append((_("Assignee"), value))
    if filters.requester_id is not None:
        person = db.session.get(User, filters.requester_id)
        out.append((_("Requester"), person.display_name if person else str(filters.requester_id)))
    if filters.created_from:
        out.append((_("Created from"), filters.created_from.isoformat(sep=" ")))
    if filters.created_to:
        out.append((_("Created before"), filters.created_to.isoformat(sep=" ")))
    if filters.q:
        out.append((_("Search"), filters.q))
    return out


def filters_args(filters: TicketFilters) -> dict[str, Any]:
    """Query-string arguments that reproduce `filters` (the list's own plus the dates)."""
    args = filters.as_args()
    args.pop("sort", None)
    if filters.created_from:
        args["created_from"] = filters.created_from.isoformat()
    if filters.created_to:
        args["created_to"] = filters.created_to.isoformat()
    return args


# ---------------------------------------------------------------- exports


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Defuse spreadsheet formulas (CVE-2019-14749 class): a leading apostrophe.

    Spreadsheet programs treat a cell starting with = + - @ (or tab / CR, which
    they strip first) as a formula; the apostrophe makes it plain text.
    """
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy string
    kind: str  # "text" | "datetime" | "number"
    width: int


# Which columns an export has. No descriptions and no comments: the export is a
# list of tickets, and leaving conversation text out means an internal note can
# never leak into a user's file.
EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", _l("Number"), "text", 17),
    Column("title", _l("Title"), "text", 50),
    Column("status", _l("Status"), "text", 13),
    Column("priority", _l("Priority"), "text", 10),
    Column("category", _l("Category"), "text", 22),
    Column("requester", _l("Requester"), "text", 22),
    Column("assignee", _l("Assignee"), "text", 22),
    Column("created_at", _l("Created (UTC)"), "datetime", 18),
    Column("updated_at", _l("Updated (UTC)"), "datetime", 18),
    Column("first_response_at", _l("First response (UTC)"), "datetime", 18),
    Column("resolved_at", _l("Resolved (UTC)"), "datetime", 18),
    Column("closed_at", _l("Closed (UTC)"), "datetime", 18),
    Column("first_response_hours", _l("First response (hours)"), "number", 12),
    Column("resolution_hours", _l("Resolution (hours)"), "number", 12),
)


def export_query(actor: User, filters: TicketFilters) -> Any:
    """Plain columns (no ORM objects) of the filtered tickets, oldest first."""
    requester = aliased(User)
    assignee = aliased(User)
    return (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.title,
            Ticket.status,
            Ticket.priority,
            Category.name,
            requester.full_name,
            requester.username,
            assignee.full_name,
            assignee.username,
            Ticket.created_at,
            Ticket.updated_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
            Ticket.closed_at,
        )
        .join(Category, Category.id == Ticket.category_id)
        .join(requester, requester.id == Ticket.requester_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(_where(actor, filters))
        .order_by(Ticket.id)
    )


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


def _naive(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value else None


def iter_export_rows(actor: User, filters: TicketFilters) -> Iterator[dict[str, Any]]:
    """The export's rows, fetched from the database in batches.

    `yield_per` turns on `stream_results`: PostgreSQL (psycopg) uses a named
    server-side cursor and MySQL/MariaDB (PyMySQL) an unbuffered SSCursor, so only
    one batch is in memory. SQLite ignores the option, but its cursor already
    steps through rows on demand. On MySQL the connection is busy until the rows
    are consumed: run no other query in the same session meanwhile.
    """
    if not perm.can_export(actor):
        raise PermissionDenied(_("You cannot export tickets."))
    status_labels = {s.value: str(STATUS_LABELS[s]) for s in Status}
    priority_labels = {p.value: str(PRIORITY_LABELS[p]) for p in Priority}
    result = db.session.execute(
        export_query(actor, filters).execution_options(yield_per=EXPORT_BATCH)
    )
    for row in result:
        (
            _id,
            number,
            title,
            status,
            priority,
            category,
            req_name,
            req_user,
            asg_name,
            asg_user,
            created,
            updated,
            first,
            resolved,
            closed,
        ) = row
        created, updated = _naive(created), _naive(updated)
        first, resolved, closed = _naive(first), _naive(resolved), _naive(closed)
        yield {
            "number": number,
            "title": title,
            "status": status_labels[_enum_value(status)],
            "priority": priority_labels[_enum_value(priority)],
            "category": category,
            "requester": user_label(req_name, req_user),
            "assignee": user_label(asg_name, asg_user),
            "created_at": created,
            "updated_at": updated,
            "first_response_at": first,
            "resolved_at": resolved,
            "closed_at": closed,
            "first_response_hours": _hours(created, first),
            "resolution_hours": _hours(created, resolved),
        }


def export_filename(fmt: str, now: datetime | None = None) -> str:
    stamp = (now or utcnow()).strftime("%Y-%m-%d_%H%M")
    return f"tickets_{stamp}.{fmt}"


def record_export(
    actor: User,
    fmt: str,
    filters: TicketFilters,
    *,
    ip: str | None = None,
    rows: int | None = None,
    job: str | None = None,
) -> None:
    """Audit row for an export (the caller commits it before streaming starts, or with
    the export job it starts)."""
    detail: dict[str, Any] = {"format": fmt, "filters": filters_args(filters)}
    if rows is not None:
        detail["rows"] = rows
    if job is not None:
        detail["job"] = job
    record("report.export", actor=actor, ip=ip, **detail)


def _csv_value(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == "number":
        return value
    return neutralise(str(value))


def iter_csv(actor: User, filters: TicketFilters, batch: int = 500) -> Iterator[str]:
    """CSV text in chunks of `batch` rows; starts with a BOM so Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(c.label) for c in EXPORT_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in iter_export_rows(actor, filters):
        writer.writerow([_csv_value(c, row[c.key]) for c in EXPORT_COLUMNS])
        pending += 1
        if pending >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def write_xlsx(
    actor: User,
    filters: TicketFilters,
    path: str,
    *,
    progress: Callable[[int], None] | None = None,
    tmpdir: str | None = None,
) -> int:
    """Write the export to `path` with XlsxWriter in constant_memory mode; returns rows.

    constant_memory flushes each row to a temporary file as soon as the next one
    starts, so memory stays flat whatever the row count; `close()` then packs that
    file into the zip (about a tenth of the time, with nothing to report). Strings
    go through write_string (never parsed as formulas) after `neutralise`.

    `progress(rows written)` is called every EXPORT_BATCH rows and once more when
    every row is written (only the packing is left then). Row data goes to a
    private folder under `tmpdir` (it is about as large as the sheet's XML), removed
    whatever happens: a failed export leaves no half-written file behind and does
    not spend time packing one.
    """
    import xlsxwriter

    with tempfile.TemporaryDirectory(
        prefix="helpdesk-xlsx-", dir=tmpdir, ignore_cleanup_errors=True
    ) as scratch:
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "tmpdir": scratch,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        sheet = workbook.add_worksheet(_("Tickets")[:31])
        header = workbook.add_format({"bold": True, "bg_color": "#DDE3EA", "border": 1})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        number_fmt = workbook.add_format({"num_format": "0.00"})
        for i, column in enumerate(EXPORT_COLUMNS):
            sheet.set_column(i, i, column.width)
        sheet.freeze_panes(1, 0)
        for i, column in enumerate(EXPORT_COLUMNS):
            sheet.write_string(0, i, str(column.label), header)
        row_no = 0
        for row in iter_export_rows(actor, filters):
            row_no += 1
            for i, column in enumerate(EXPORT_COLUMNS):
                value = row[column.key]
                if value is None:
                    continue
                if column.kind == "datetime":
                    sheet.write_datetime(row_no, i, value, date_fmt)
                elif column.kind == "number":
                    sheet.write_number(row_no, i, value, number_fmt)
                else:
                    sheet.write_string(row_no, i, neutralise(str(value)))
            if progress is not None and row_no % EXPORT_BATCH == 0:
                progress(row_no)
        sheet.autofilter(0, 0, max(row_no, 1), len(EXPORT_COLUMNS) - 1)
        if progress is not None:
            progress(row_no)
        workbook.close()
    return row_no


def iter_file(path: str, chunk: int = 64 * 1024, *, remove: bool = True) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data
    finally:
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def iter_xlsx(actor: User, filters: TicketFilters) -> Iterator[bytes]:
    """Build the workbook in a temporary file, then stream it and delete it.

    The first (empty) chunk lets the server send the headers at once, so the
    browser shows the download as started while the workbook is being written.
    """
    fd, path = tempfile.mkstemp(prefix="helpdesk-export-", suffix=".xlsx")
    os.close(fd)
    try:
        yield b""
        write_xlsx(actor, filters, path)
    except BaseException:
        os.unlink(path)
        raise
    yield from iter_file(path)


def check_direct_xlsx_size(actor: User, filters: TicketFilters) -> int:
    """The direct download builds the workbook inside the web worker: small ones only."""
    count = tickets.count_tickets(actor, filters)
    if count > XLSX_SLOW_ROWS:
        raise InvalidInput(
            _(
                "This report has %(count)s tickets; an Excel file that large is prepared "
                "in the background. Use the Excel button on this page to start it.",
                count=f"{count:,}",
            ),
            field="format",
        )
    return count


# ---------------------------------------------------------------- PDF


def _font_paths() -> tuple[Path, Path] | None:
    """DejaVu Sans Condensed: shipped with the app; Debian's copy as a second choice."""
    for folder in (FONT_DIR, DEBIAN_FONT_DIR):
        regular = folder / "DejaVuSansCondensed.ttf"
        bold = folder / "DejaVuSansCondensed-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def pdf_row_count(actor: User, filters: TicketFilters) -> int:
    return tickets.count_tickets(actor, filters)


def check_pdf_size(actor: User, filters: TicketFilters) -> int:
    count = pdf_row_count(actor, filters)
    if count > PDF_ROW_LIMIT:
        raise InvalidInput(
            _(
                "This report has %(count)s tickets; PDF is limited to %(limit)s. "
                "Narrow the filters or export to CSV or Excel, which have no limit.",
                count=f"{count:,}",
                limit=f"{PDF_ROW_LIMIT:,}",
            ),
            field="format",
        )
    return count


PDF_COLUMNS = ("number", "title", "status", "priority", "category", "assignee", "created_at")
PDF_WIDTHS = (30, 88, 24, 20, 40, 40, 28)  # mm on landscape A4 (277 mm usable)
ROW_HEIGHT = 5.0  # mm


def build_pdf(actor: User, filters: TicketFilters, now: datetime | None = None) -> bytes:
    """A titled report: filters, generation time, summary table, ticket table.

    Page numbers in the footer and the ticket table's header repeated on every
    page. Text comes out in the reader's locale (Flask-Babel's gettext).
    """
    from fpdf import FPDF, FontFace

    check_pdf_size(actor, filters)
    now = now or utcnow()
    fonts = _font_paths()
    page_label = _("Page")

    class Report(FPDF):
        # Rows are drawn with cell() (one line, cut to the column) rather than
        # fpdf2's table(): table() wraps every cell and is ~20x slower at 5,000 rows.
        table_header: list[str] | None = None

        def header(self) -> None:
            if self.table_header and self.page_no() > 1:
                self.draw_table_header()

        def draw_table_header(self) -> None:
            assert self.table_header is not None
            style = (self.font_family, self.font_style, self.font_size_pt)
            self.set_font(family, "B", 7.5)
            self.set_fill_color(221, 227, 234)
            for label, width in zip(self.table_header, PDF_WIDTHS, strict=True):
                self.cell(width, ROW_HEIGHT + 1, self.fit(label, width), border=1, fill=True)
            self.ln(ROW_HEIGHT + 1)
            self.set_font(style[0], style[1], style[2])
            self.set_fill_color(245, 247, 250)

        def fit(self, value: str, width: float) -> str:
            """Cut `value` with an ellipsis so it fits one line of the column."""
            room = width - 2 * self.c_margin
            if self.get_string_width(value) <= room:
                return value
            while value and self.get_string_width(value + "…") > room:
                value = value[: max(1, int(len(value) * 0.9))] if len(value) > 12 else value[:-1]
            return value + "…"

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.cell(0, 8, f"{page_label} {self.page_no()} / {{nb}}", align="C")

    pdf = Report(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    if fonts:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        family = "DejaVu"
        if EMOJI_FONT.is_file():
            pdf.add_font("Emoji", "", str(EMOJI_FONT))
            pdf.set_fallback_fonts(["Emoji"], exact_match=False)  # bold text too

        def text(value: Any) -> str:
            return "" if value is None else str(value)
    else:  # no Unicode font anywhere: core font, Latin-1 only
        family = "Helvetica"

        def text(value: Any) -> str:
            return (
                "" if value is None else str(value).encode("latin-1", "replace").decode("latin-1")
            )

    title = _("Tickets report")
    pdf.set_title(title)
    pdf.set_creator("Helpdesk")
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 10, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    generated = format_datetime(now.replace(tzinfo=timezone.utc), "long")
    pdf.cell(
        0, 6, text(_("Generated %(when)s by %(who)s", when=generated, who=actor.display_name)),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    applied = describe_filters(filters)
    filters_text = (
        "; ".join(f"{label}: {value}" for label, value in applied) if applied else _("none")
    )
    pdf.multi_cell(
        0, 6, text(_("Filters: %(filters)s", filters=filters_text)), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(3)

    heading = FontFace(emphasis="BOLD", fill_color=(221, 227, 234))
    summary = report_summary(actor, filters)
    pdf.set_font(family, "B", 11)
    pdf.cell(
        0, 8, text(_("Summary: %(n)s tickets", n=summary["total"])), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(family, "", 8)
    with pdf.table(
        col_widths=(60, 20, 20, 40, 40),
        width=180,
        align="LEFT",
        headings_style=heading,
        line_height=5,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        table.row(
            [
                text(_("Category")),
                text(_("Tickets")),
                text(_("Open")),
                text(_("Avg. first response")),
                text(_("Avg. resolution")),
            ]
        )
        for item in summary["category"]:
            table.row(
                [
                    text(item.label),
                    str(item.count),
                    str(item.open),
                    text(humanise_seconds(item.avg_first_response)),
                    text(humanise_seconds(item.avg_resolution)),
                ]
            )
    pdf.ln(4)

    pdf.set_font(family, "B", 11)
    pdf.cell(0, 8, text(_("Tickets")), new_x="LMARGIN", new_y="NEXT")
    labels = {c.key: str(c.label) for c in EXPORT_COLUMNS}
    labels["created_at"] = _("Created")
    pdf.table_header = [text(labels[k]) for k in PDF_COLUMNS]
    pdf.draw_table_header()
    pdf.set_font(family, "", 7.5)
    pdf.set_fill_color(245, 247, 250)
    for n, row in enumerate(iter_export_rows(actor, filters)):
        for key, width in zip(PDF_COLUMNS, PDF_WIDTHS, strict=True):
            value = row[key]
            if isinstance(value, datetime):
                value = value.strftime("%Y-%m-%d %H:%M")
            pdf.cell(width, ROW_HEIGHT, pdf.fit(text(value), width), border="B", fill=n % 2 == 1)
        pdf.ln(ROW_HEIGHT)
    return bytes(pdf.output())
