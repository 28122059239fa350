"""Pieces every report, figure and export shares."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import format_timedelta
from sqlalchemy import ColumnElement, true

from helpdesk.tickets import queries as tickets
from helpdesk.tickets.models import Status, Ticket
from helpdesk.tickets.queries import TicketFilters
from helpdesk.users.models import User

OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.WAITING)


def where_clause(actor: User, filters: TicketFilters | None = None) -> ColumnElement[bool]:
    """The WHERE of the ticket list for `actor` and `filters` (visibility included)."""
    query = tickets.filtered_tickets(actor, filters or TicketFilters())
    if filters is not None and filters.q:
        # A search may join SQLite's FTS table, which a bare WHERE would lose (staff
        # reports with a search answered 500 "no such column: tickets_fts").
        return Ticket.id.in_(query.with_only_columns(Ticket.id).order_by(None))
    clause = query.whereclause
    return clause if clause is not None else true()


def avg_seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def enum_value(value: Any) -> str:
    return value.value if hasattr(value, "value") else str(value)


def humanise_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return str(format_timedelta(timedelta(seconds=seconds), threshold=1.1))


def user_label(full_name: str | None, username: str | None) -> str:
    return full_name or username or ""
