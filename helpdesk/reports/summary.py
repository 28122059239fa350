"""Report summaries (the reports page and the PDF) and the filters they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from helpdesk.errors import PermissionDenied
from helpdesk.extensions import db
from helpdesk.reports import permissions as perm
from helpdesk.reports.common import OPEN_STATUSES, avg_seconds, enum_value, where_clause
from helpdesk.reports.dashboard import DEFAULT_TREND_DAYS, window
from helpdesk.reports.sqltime import seconds_between
from helpdesk.tickets.labels import PRIORITY_LABELS, STATUS_LABELS
from helpdesk.tickets.models import Category, Priority, Status, Ticket
from helpdesk.tickets.queries import TicketFilters, person_in_view
from helpdesk.users.models import User


@dataclass
class SummaryRow:
    key: Any
    label: str
    count: int
    open: int
    avg_first_response: float | None
    avg_resolution: float | None
    # Service levels: percent of the decided targets met in time (None: none decided).
    first_response_met: float | None = None
    resolution_met: float | None = None


@dataclass
class _Cell:
    """Sums for one (status, category, priority, assignee) group of the filtered tickets."""

    count: int = 0
    open: int = 0
    responded: int = 0
    response_seconds: float = 0.0
    resolved: int = 0
    resolution_seconds: float = 0.0
    response_decided: int = 0
    response_met: int = 0
    resolution_decided: int = 0
    resolution_met: int = 0

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
            func.count(Ticket.sla_response_met),
            func.sum(case((Ticket.sla_response_met.is_(True), 1), else_=0)),
            func.count(Ticket.sla_resolution_met),
            func.sum(case((Ticket.sla_resolution_met.is_(True), 1), else_=0)),
        )
        .where(where_clause(actor, filters))
        .group_by(*keys)
    )
    out = []
    for row in rows:
        status, category_id, priority, assignee_id, n, responded, first, resolved, res = row[:9]
        r_decided, r_met, s_decided, s_met = row[9:]
        status = Status(enum_value(status))
        cell = _Cell(
            count=int(n),
            open=int(n) if status in OPEN_STATUSES else 0,
            responded=int(responded or 0),
            response_seconds=float(first or 0),
            resolved=int(resolved or 0),
            resolution_seconds=float(res or 0),
            response_decided=int(r_decided or 0),
            response_met=int(r_met or 0),
            resolution_decided=int(s_decided or 0),
            resolution_met=int(s_met or 0),
        )
        out.append(((status, category_id, Priority(enum_value(priority)), assignee_id), cell))
    return out


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


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
            avg_first_response=avg_seconds(g.response_seconds / g.responded)
            if g.responded
            else None,
            avg_resolution=avg_seconds(g.resolution_seconds / g.resolved) if g.resolved else None,
            first_response_met=_percent(g.response_met, g.response_decided),
            resolution_met=_percent(g.resolution_met, g.resolution_decided),
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
        raise PermissionDenied("Only staff can see the summary by technician.")
    return _by_technician(_cells(actor, filters))


def report_summary(actor: User, filters: TicketFilters) -> dict[str, Any]:
    """Total and the four summary tables, from one grouped read of the filtered tickets."""
    if not perm.can_view_reports(actor):
        raise PermissionDenied("You cannot see reports.")
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
    first, _today = window(
        DEFAULT_TREND_DAYS, datetime.combine(today, datetime.min.time()) if today else None
    )
    out = args.copy()
    out["created_from"] = first.isoformat()
    return out


def _person(actor: User, user_id: int, role: str) -> str:
    person = person_in_view(actor, user_id, role)
    return person.display_name if person is not None else f"#{user_id}"


def describe_filters(actor: User, filters: TicketFilters) -> list[tuple[str, str]]:
    """The filters applied, as (label, value) pairs a person can read; people are named
    only when `actor` may see them on a ticket (tickets.queries.person_in_view)."""
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
            value = _person(actor, int(filters.assignee), "assignee")
        out.append((_("Assignee"), value))
    if filters.requester_id is not None:
        out.append((_("Requester"), _person(actor, filters.requester_id, "requester")))
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
