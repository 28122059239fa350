"""Maintained ticket counters: badges and dashboard figures without counting the table.

`ticket_counts` holds one row per (status, assignee) with the number of tickets.
Triggers keep it exact inside the very transaction that changes a ticket, on
SQLite, MariaDB/MySQL and PostgreSQL alike, whatever path wrote the row (the
services, the demo seeder's bulk inserts, a manual fix in SQL).  A trigger sees
the row as it really is when it is changed: two requests that both loaded a
ticket as `open` and move it to different statuses still leave exact counts,
which bookkeeping from the ORM's stale "old value" could not.

Rollup rows: every ticket also counts in rows with assignee_key and/or
category_id = ROLLUP_KEY (-1), "any assignee" / "any category" (a small cube).  A
figure reads the rows rolled up on every dimension it does not group by, so an
administrator's status badge reads 20 rows and the workload chart a few
hundred, instead of adding up one row per technician and category: what is
read no longer grows with the staff or the categories.

Deadlocks: an update touches up to eight counter rows; the trigger always locks
the most rolled-up rows first and, within each level, the smaller key first,
so two transactions cannot wait on each other through the counters.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from sqlalchemy import func, inspect, select

from helpdesk.extensions import db
from helpdesk.tickets import triggers
from helpdesk.tickets.audience import ROLLUP_KEY, UNASSIGNED_KEY, Audience
from helpdesk.tickets.models import Priority, Status, Ticket, TicketCount
from helpdesk.users.models import User

PREFIX = "tickets_count"  # trigger names: see helpdesk.tickets.triggers
ROLLUP_DIMS = ("assignee_key", "category_id")

# Counter key column -> the ticket expression it counts by.  Migration 0002 made
# the first two; 0004 added priority and category.  The triggers are generated
# from the columns the table has, so each migration installs its own version.
KEY_SOURCES = {
    "status": "status",
    "assignee_key": f"COALESCE({{row}}.assignee_id, {UNASSIGNED_KEY})",
    "priority": "priority",
    "category_id": "category_id",
}
WATCHED = {"status": "status", "assignee_key": "assignee_id", "priority": "priority",
           "category_id": "category_id"}  # fmt: skip


def _key_columns(connection: Any) -> list[str]:
    present = {c["name"] for c in inspect(connection).get_columns("ticket_counts")}
    return [k for k in KEY_SOURCES if k in present]


Level = frozenset[str]  # the dimensions rolled up to ROLLUP_KEY in a row


def _levels(keys: list[str]) -> list[Level]:
    """Every combination of the rollup dimensions the table has, most rolled-up first."""
    dims = [d for d in ROLLUP_DIMS if d in keys]
    levels = [frozenset(c) for n in range(len(dims), -1, -1) for c in combinations(dims, n)]
    return levels


def _exprs(keys: list[str], row: str, level: Level = frozenset()) -> list[str]:
    def expr(k: str) -> str:
        if k in level:
            return str(ROLLUP_KEY)
        source = KEY_SOURCES[k]
        return source.format(row=row) if "{row}" in source else f"{row}.{source}"

    return [expr(k) for k in keys]


def _values(keys: list[str], row: str, level: Level = frozenset()) -> str:
    return ", ".join(_exprs(keys, row, level))


def _ddl(dialect: str, keys: list[str]) -> list[str]:
    cols = ", ".join(keys)
    levels = _levels(keys)  # most rolled-up rows first: the lock order

    def upsert(row: str, d: int, level: Level) -> str:
        values = f"({cols}, n) VALUES ({_values(keys, row, level)}, {d})"
        if dialect == "mysql":
            return f"INSERT INTO ticket_counts {values} ON DUPLICATE KEY UPDATE n = n + VALUES(n);"
        return (
            f"INSERT INTO ticket_counts {values} "
            f"ON CONFLICT ({cols}) DO UPDATE SET n = ticket_counts.n + excluded.n;"
        )

    add = "".join(upsert("NEW", 1, r) for r in levels)
    sub = "".join(upsert("OLD", -1, r) for r in levels)
    if dialect == "sqlite":
        move = f"{sub} {add}"  # one writer at a time: no lock order to keep
    else:
        # Move a ticket between keys: at each level, the smaller key first.
        move = " ".join(
            f"IF ({_values(keys, 'OLD', r)}) < ({_values(keys, 'NEW', r)}) "
            f"THEN {upsert('OLD', -1, r)} {upsert('NEW', 1, r)} "
            f"ELSE {upsert('NEW', 1, r)} {upsert('OLD', -1, r)} END IF;"
            for r in levels
        )
    return triggers.row_triggers(
        dialect, PREFIX, [WATCHED[k] for k in keys], on_insert=add, on_delete=sub, on_update=move
    )


def install(connection: Any) -> None:
    """Create the triggers for the table's key columns (idempotent) and recount."""
    keys = _key_columns(connection)
    for statement in _ddl(triggers.dialect_of(connection), keys):
        connection.exec_driver_sql(statement)
    rebuild(connection)


def rebuild(connection: Any) -> None:
    """Recount from scratch (migration, repair); one full scan, never per request."""
    keys = _key_columns(connection)
    connection.exec_driver_sql("DELETE FROM ticket_counts")
    cols = ", ".join(keys)
    for level in _levels(keys):
        exprs = _values(keys, "tickets", level)
        groups = _values([k for k in keys if k not in level], "tickets")
        connection.exec_driver_sql(
            f"INSERT INTO ticket_counts ({cols}, n) SELECT {exprs}, COUNT(*) FROM tickets "
            f"GROUP BY {groups}"
        )


def breakdown(
    actor: User, *dims: str, statuses: tuple[Status, ...] | None = None
) -> list[tuple[Any, ...]]:
    """Counts of the tickets `actor` may see, grouped by counter key columns `dims`.

    dims are names from KEY_SOURCES; rows are (value per dim..., n) with status as
    its string value, priority as a Priority and assignee_key 0 for unassigned.
    Rows rolled up on every rollup dimension not in `dims` (never counted twice).
    What is visible comes from the actor's `Audience`: everything → the rollup rows
    (any assignee unless grouping by assignee); the visible queues → their counter
    rows; requested tickets outside those queues → read from tickets (an index range).
    """
    audience = Audience.of(actor)
    if audience.nobody:
        return []
    ticket_cols = {
        "status": Ticket.status,
        "assignee_key": func.coalesce(Ticket.assignee_id, UNASSIGNED_KEY),
        "priority": Ticket.priority,
        "category_id": Ticket.category_id,
    }
    totals: dict[tuple[Any, ...], int] = {}

    def add(rows: Any) -> None:
        for row in rows:
            key = tuple(_plain(d, v) for d, v in zip(dims, row[:-1], strict=True))
            totals[key] = totals.get(key, 0) + int(row[-1] or 0)

    outside = audience.outside_queues()
    if outside is not None:
        cols = [ticket_cols[d] for d in dims]
        query = select(*cols, func.count()).where(outside).group_by(*cols)
        if statuses:
            query = query.where(Ticket.status.in_(statuses))
        add(db.session.execute(query))
    if audience.everything or audience.counter_keys:
        cols = [getattr(TicketCount, d) for d in dims]
        query = select(*cols, func.sum(TicketCount.n)).group_by(*cols)
        if statuses:
            query = query.where(TicketCount.status.in_([s.value for s in statuses]))
        query = query.where(
            TicketCount.category_id >= 0
            if "category_id" in dims
            else TicketCount.category_id == ROLLUP_KEY
        )
        if audience.everything:
            query = query.where(
                TicketCount.assignee_key >= 0
                if "assignee_key" in dims
                else TicketCount.assignee_key == ROLLUP_KEY
            )
        else:
            query = query.where(TicketCount.assignee_key.in_(audience.counter_keys))
        add(db.session.execute(query))
    return [(*key, n) for key, n in totals.items() if n]


def _plain(dim: str, value: Any) -> Any:
    if dim == "status":
        return value.value if isinstance(value, Status) else Status(value).value
    if dim == "priority":
        return value if isinstance(value, Priority) else list(Priority)[int(value) - 1]
    return int(value)


def status_counts(actor: User) -> dict[str, int]:
    """Tickets per status among those `actor` may see, without scanning the tickets table."""
    counts = {s.value: 0 for s in Status}
    for status, n in breakdown(actor, "status"):
        counts[status] += n
    return counts


def uninstall(connection: Any) -> None:
    triggers.drop_row_triggers(connection, PREFIX)
