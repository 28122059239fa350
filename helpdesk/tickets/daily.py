"""Maintained per-day ticket figures (`ticket_days`): dashboard windows without reading tickets.

The dashboard's averages and created-vs-resolved trend cover "the last N days";
at a million tickets over two years a 30-day window is ~40,000 tickets, and
reading them per request made the dashboard twelve times slower than at 10,000.
`ticket_days` holds one row per (assignee, day, priority) plus rollup rows for
every assignee (assignee_key ROLLUP_KEY, -1), so an administrator's 30-day window is 120
rows and a technician's 240, whatever the size of the desk.

Like `ticket_counts`, triggers keep it exact inside the transaction that
changes a ticket, on SQLite, MariaDB/MySQL and PostgreSQL, whatever wrote the
row.  A ticket's contribution is two rows: the day it was created (counts and
duration sums) and, once resolved, the day it was resolved.  An update removes
the old contribution and adds the new one in ONE statement whose rows are
grouped and written in key order, so two transactions lock the rows they share
in the same order and cannot deadlock on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select

from helpdesk.extensions import db
from helpdesk.reports.sqltime import day_key, day_of, seconds_between
from helpdesk.tickets import triggers
from helpdesk.tickets.audience import ROLLUP_KEY, UNASSIGNED_KEY, Audience
from helpdesk.tickets.models import Priority, Status, Ticket, TicketDay
from helpdesk.users.models import User

PREFIX = "tickets_days"  # trigger names: see helpdesk.tickets.triggers
OPEN_VALUES = (Status.OPEN.value, Status.IN_PROGRESS.value, Status.WAITING.value)
# Columns whose change moves a ticket's contribution.
WATCHED = ("status", "assignee_id", "priority", "created_at", "first_response_at", "resolved_at")
SUMS = (
    "created_n",
    "open_n",
    "responded_n",
    "response_ms",
    "resolved_n",
    "resolution_ms",
    "resolved_on_n",
)
KEY = ("assignee_key", "day", "priority")


@dataclass
class Figures:
    """Sums of `ticket_days` columns for one group (a day, a priority, a window)."""

    created_n: int = 0
    open_n: int = 0
    responded_n: int = 0
    response_ms: int = 0
    resolved_n: int = 0
    resolution_ms: int = 0
    resolved_on_n: int = 0

    def add(self, values: Iterable[Any]) -> None:
        for f, v in zip(fields(self), values, strict=True):
            setattr(self, f.name, getattr(self, f.name) + int(v or 0))

    def average_seconds(self, total: str, count: str) -> float | None:
        n = getattr(self, count)
        return None if not n else round(getattr(self, total) / n / 1000.0, 1)


# ---------------------------------------------------------------- triggers


def _day(dialect: str, column: str) -> str:
    return f"CAST({column} AS DATE)" if dialect == "postgresql" else f"DATE({column})"


def _ms(dialect: str, start: str, end: str) -> str:
    if dialect == "sqlite":
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER)"
    if dialect == "postgresql":
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start})) * 1000) AS BIGINT)"
    return f"(TIMESTAMPDIFF(MICROSECOND, {start}, {end}) DIV 1000)"


def _contribution(dialect: str, row: str, sign: int, source: str = "") -> str:
    """Two SELECTs (created day, resolved day) of `row`'s part in the sums, times `sign`.

    `row` is NEW or OLD in a trigger; `source` is " FROM tickets" for a rebuild.
    """
    selects = []
    for assignee in (f"COALESCE({row}.assignee_id, {UNASSIGNED_KEY})", str(ROLLUP_KEY)):
        selects += _rows(dialect, row, sign, source, f"{assignee} AS a, {row}.priority AS p")
    return " UNION ALL ".join(selects)


def _rows(dialect: str, row: str, sign: int, source: str, key: str) -> list[str]:
    opened = ", ".join(f"'{v}'" for v in OPEN_VALUES)

    def flag(condition: str) -> str:
        return f"{sign} * CASE WHEN {condition} THEN 1 ELSE 0 END"

    def span(end: str) -> str:
        return f"{sign} * COALESCE({_ms(dialect, f'{row}.created_at', f'{row}.{end}')}, 0)"

    created = (
        f"SELECT {_day(dialect, f'{row}.created_at')} AS d, {key}, {sign} AS c1, "
        f"{flag(f'{row}.status IN ({opened})')} AS c2, "
        f"{flag(f'{row}.first_response_at IS NOT NULL')} AS c3, {span('first_response_at')} AS c4, "
        f"{flag(f'{row}.resolved_at IS NOT NULL')} AS c5, {span('resolved_at')} AS c6, 0 AS c7{source}"
    )
    resolved = (
        f"SELECT {_day(dialect, f'{row}.resolved_at')} AS d, {key}, "
        f"0 AS c1, 0 AS c2, 0 AS c3, 0 AS c4, 0 AS c5, 0 AS c6, {sign} AS c7{source}"
    )
    return [created, resolved]


def _apply(dialect: str, source: str) -> str:
    """INSERT the grouped deltas of `source` (columns d, a, p, c1..c7) in key order, adding to existing rows."""
    cols = ", ".join((*KEY, *SUMS))
    deltas = ", ".join(f"SUM(c{i})" for i in range(1, len(SUMS) + 1))
    nonzero = " OR ".join(f"SUM(c{i}) <> 0" for i in range(1, len(SUMS) + 1))
    grouped = (
        f"SELECT a, d, p, {deltas} FROM ({source}) v WHERE d IS NOT NULL "
        f"GROUP BY a, d, p HAVING {nonzero}"
    )
    if dialect == "mysql":
        # A derived table keeps ON DUPLICATE KEY UPDATE's names unambiguous.
        updates = ", ".join(f"{c} = ticket_days.{c} + VALUES({c})" for c in SUMS)
        return (
            f"INSERT INTO ticket_days ({cols}) SELECT * FROM ({grouped}) g "
            f"ORDER BY a, d, p ON DUPLICATE KEY UPDATE {updates};"
        )
    table = "ticket_days"
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUMS)
    # SQLite needs the WHERE of `grouped` to parse an upsert from a SELECT.
    return (
        f"INSERT INTO ticket_days ({cols}) {grouped} ORDER BY a, d, p "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates};"
    )


def _ddl(dialect: str) -> list[str]:
    add = _apply(dialect, _contribution(dialect, "NEW", 1))
    sub = _apply(dialect, _contribution(dialect, "OLD", -1))
    move = _apply(
        dialect, f"{_contribution(dialect, 'OLD', -1)} UNION ALL {_contribution(dialect, 'NEW', 1)}"
    )
    return triggers.row_triggers(
        dialect, PREFIX, WATCHED, on_insert=add, on_delete=sub, on_update=move
    )


def install(connection: Any) -> None:
    """Create the triggers (idempotent) and rebuild the rows from the tickets."""
    for statement in _ddl(triggers.dialect_of(connection)):
        connection.exec_driver_sql(statement)
    rebuild(connection)


def rebuild(connection: Any) -> None:
    """Recompute every row from the tickets (migration, repair): one scan, never per request."""
    dialect = triggers.dialect_of(connection)
    connection.exec_driver_sql("DELETE FROM ticket_days")
    connection.exec_driver_sql(
        _apply(dialect, _contribution(dialect, "tickets", 1, " FROM tickets"))
    )


def uninstall(connection: Any) -> None:
    triggers.drop_row_triggers(connection, PREFIX)


# ---------------------------------------------------------------- reading


def _ticket_sums(day_column: Any) -> list[Any]:
    """SUMS as aggregates over tickets grouped by the day of `day_column` (the ticket-side
    reading for a user's own tickets); the resolved day only carries resolved_on_n."""

    def flag(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    def span(end: Any) -> Any:
        return func.coalesce(func.sum(seconds_between(Ticket.created_at, end) * 1000), 0)

    if day_column is Ticket.resolved_at:
        return [*(literal(0) for _ in SUMS[:-1]), func.count()]
    return [
        func.count(),
        flag(Ticket.status.in_([Status(v) for v in OPEN_VALUES])),
        flag(Ticket.first_response_at.is_not(None)),
        span(Ticket.first_response_at),
        flag(Ticket.resolved_at.is_not(None)),
        span(Ticket.resolved_at),
        literal(0),
    ]


def figures(
    actor: User, first_day: date, last_day: date, *, by_priority: bool = False
) -> dict[tuple[str, Priority | None], Figures]:
    """Sums per (day 'YYYY-MM-DD', priority or None) over the tickets `actor` may see.

    What is visible comes from the actor's `Audience`: everything → the rollup
    rows; the visible queues → their rows; requested tickets outside those queues
    → read from tickets (an index range on requester).
    """
    out: dict[tuple[str, Priority | None], Figures] = {}
    audience = Audience.of(actor)
    if audience.nobody:
        return out

    def put(day: Any, priority: Any, values: Iterable[Any]) -> None:
        p = _priority(priority) if by_priority else None
        out.setdefault((day_key(day), p), Figures()).add(values)

    def from_tickets(*where: Any) -> None:
        start = datetime.combine(first_day, time.min)
        end = datetime.combine(last_day + timedelta(days=1), time.min)
        for column in (Ticket.created_at, Ticket.resolved_at):
            day = day_of(column)
            keys = [day, Ticket.priority] if by_priority else [day]
            rows = db.session.execute(
                select(*keys, *_ticket_sums(column))
                .where(*where, column >= start, column < end)
                .group_by(*keys)
            )
            for row in rows:
                put(row[0], row[1] if by_priority else None, row[len(keys) :])

    outside = audience.outside_queues()
    if outside is not None:
        from_tickets(outside)
    if not audience.everything and not audience.counter_keys:
        return out
    keys = [TicketDay.day, TicketDay.priority] if by_priority else [TicketDay.day]
    query = (
        select(*keys, *(func.sum(getattr(TicketDay, c)) for c in SUMS))
        .where(TicketDay.day >= first_day, TicketDay.day <= last_day)
        .group_by(*keys)
    )
    if audience.everything:
        query = query.where(TicketDay.assignee_key == ROLLUP_KEY)
    else:
        query = query.where(TicketDay.assignee_key.in_(audience.counter_keys))
    for row in db.session.execute(query):
        put(row[0], row[1] if by_priority else None, row[len(keys) :])
    return out


def _priority(value: Any) -> Priority:
    return value if isinstance(value, Priority) else list(Priority)[int(value) - 1]


def total(rows: dict[tuple[str, Priority | None], Figures]) -> Figures:
    result = Figures()
    for f in rows.values():
        result.add(getattr(f, c) for c in SUMS)
    return result
