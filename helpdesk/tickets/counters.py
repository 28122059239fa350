"""Maintained ticket counters: badges and dashboard figures without counting the table.

`ticket_counts` holds one row per (status, assignee) with the number of tickets.
Triggers keep it exact inside the very transaction that changes a ticket, on
SQLite, MariaDB/MySQL and PostgreSQL alike, whatever path wrote the row (the
services, the demo seeder's bulk inserts, a manual fix in SQL).  A trigger sees
the row as it really is when it is changed: two requests that both loaded a
ticket as `open` and move it to different statuses still leave exact counts,
which bookkeeping from the ORM's stale "old value" could not.

Rollup rows: every ticket also counts in rows with assignee_key and/or
category_id = ALL (-1), "any assignee" / "any category" (a small cube).  A
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
from helpdesk.tickets.models import Priority, Status, Ticket, TicketCount
from helpdesk.users.models import Role, User

TRIGGERS = ("tickets_count_ai", "tickets_count_ad", "tickets_count_au")
ALL = -1  # key value of the rollup rows: every assignee (unassigned included) / category
ROLLUP_DIMS = ("assignee_key", "category_id")

# Counter key column -> the ticket expression it counts by.  Migration 0002 made
# the first two; 0004 added priority and category.  The triggers are generated
# from the columns the table has, so each migration installs its own version.
KEY_SOURCES = {
    "status": "status",
    "assignee_key": "COALESCE({row}.assignee_id, 0)",
    "priority": "priority",
    "category_id": "category_id",
}
WATCHED = {"status": "status", "assignee_key": "assignee_id", "priority": "priority",
           "category_id": "category_id"}  # fmt: skip


def _key_columns(connection: Any) -> list[str]:
    present = {c["name"] for c in inspect(connection).get_columns("ticket_counts")}
    return [k for k in KEY_SOURCES if k in present]


Level = frozenset[str]  # the dimensions rolled up to ALL in a row


def _levels(keys: list[str]) -> list[Level]:
    """Every combination of the rollup dimensions the table has, most rolled-up first."""
    dims = [d for d in ROLLUP_DIMS if d in keys]
    levels = [frozenset(c) for n in range(len(dims), -1, -1) for c in combinations(dims, n)]
    return levels


def _exprs(keys: list[str], row: str, level: Level = frozenset()) -> list[str]:
    def expr(k: str) -> str:
        if k in level:
            return str(ALL)
        source = KEY_SOURCES[k]
        return source.format(row=row) if "{row}" in source else f"{row}.{source}"

    return [expr(k) for k in keys]


def _values(keys: list[str], row: str, level: Level = frozenset()) -> str:
    return ", ".join(_exprs(keys, row, level))


def _match(keys: list[str], row: str, level: Level) -> str:
    pairs = zip(keys, _exprs(keys, row, level), strict=True)
    return " AND ".join(f"{k} = {v}" for k, v in pairs)


def _ddl(dialect: str, keys: list[str]) -> list[str]:
    cols = ", ".join(keys)
    watched = [WATCHED[k] for k in keys]
    levels = _levels(keys)  # most rolled-up rows first: the lock order
    if dialect == "sqlite":
        add = "".join(
            f"INSERT INTO ticket_counts ({cols}, n) VALUES ({_values(keys, 'NEW', r)}, 1) "
            f"ON CONFLICT ({cols}) DO UPDATE SET n = n + 1;"
            for r in levels
        )
        sub = "".join(
            f"UPDATE ticket_counts SET n = n - 1 WHERE {_match(keys, 'OLD', r)};" for r in levels
        )
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
        return [
            *(f"DROP TRIGGER IF EXISTS {t}" for t in TRIGGERS),
            f"CREATE TRIGGER tickets_count_ai AFTER INSERT ON tickets BEGIN {add} END",
            f"CREATE TRIGGER tickets_count_ad AFTER DELETE ON tickets BEGIN {sub} END",
            f"CREATE TRIGGER tickets_count_au AFTER UPDATE OF {', '.join(watched)} ON tickets "
            f"WHEN {changed} BEGIN {sub} {add} END",
        ]

    def ordered(upsert: Any) -> str:
        """Move a ticket between keys: at each level, the smaller key first."""
        steps = []
        for r in levels:
            old_t, new_t = f"({_values(keys, 'OLD', r)})", f"({_values(keys, 'NEW', r)})"
            steps.append(
                f"IF {old_t} < {new_t} THEN {upsert('OLD', -1, r)} {upsert('NEW', 1, r)} "
                f"ELSE {upsert('NEW', 1, r)} {upsert('OLD', -1, r)} END IF;"
            )
        return " ".join(steps)

    if dialect == "postgresql":

        def pg(row: str, d: int, r: bool) -> str:
            return (f"INSERT INTO ticket_counts ({cols}, n) VALUES ({_values(keys, row, r)}, {d}) "
                    f"ON CONFLICT ({cols}) DO UPDATE SET n = ticket_counts.n + EXCLUDED.n;")  # fmt: skip

        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        return [
            f"""
            CREATE OR REPLACE FUNCTION tickets_count_trg() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN {"".join(pg("NEW", 1, r) for r in levels)}
              ELSIF TG_OP = 'DELETE' THEN {"".join(pg("OLD", -1, r) for r in levels)}
              ELSIF {changed} THEN {ordered(pg)}
              END IF;
              RETURN NULL;
            END $$
            """,
            "DROP TRIGGER IF EXISTS tickets_count ON tickets",
            f"CREATE TRIGGER tickets_count AFTER INSERT OR DELETE OR UPDATE OF {', '.join(watched)} "
            "ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_count_trg()",
        ]

    def my(row: str, d: int, r: bool) -> str:
        return (f"INSERT INTO ticket_counts ({cols}, n) VALUES ({_values(keys, row, r)}, {d}) "
                "ON DUPLICATE KEY UPDATE n = n + VALUES(n);")  # fmt: skip

    same = " AND ".join(f"OLD.{c} <=> NEW.{c}" for c in watched)
    each_row = "AFTER {event} ON tickets FOR EACH ROW BEGIN {body} END"
    return [
        *(f"DROP TRIGGER IF EXISTS {t}" for t in TRIGGERS),
        "CREATE TRIGGER tickets_count_ai "
        + each_row.format(event="INSERT", body="".join(my("NEW", 1, r) for r in levels)),
        "CREATE TRIGGER tickets_count_ad "
        + each_row.format(event="DELETE", body="".join(my("OLD", -1, r) for r in levels)),
        "CREATE TRIGGER tickets_count_au "
        + each_row.format(event="UPDATE", body=f"IF NOT ({same}) THEN {ordered(my)} END IF;"),
    ]


def install(connection: Any) -> None:
    """Create the triggers for the table's key columns (idempotent) and recount."""
    keys = _key_columns(connection)
    name = "mysql" if connection.dialect.name in ("mysql", "mariadb") else connection.dialect.name
    for statement in _ddl(name, keys):
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
    admin: any assignee (ALL) unless grouping by assignee; technician: the counter rows of their own queue and the unassigned one, plus
    the tickets they requested that someone else works on (a short index range);
    user: their own tickets (an index range).  Must agree with `visible_clause`.
    """
    if not actor.active:
        return []
    ticket_cols = {
        "status": Ticket.status,
        "assignee_key": func.coalesce(Ticket.assignee_id, 0),
        "priority": Ticket.priority,
        "category_id": Ticket.category_id,
    }
    totals: dict[tuple[Any, ...], int] = {}

    def add(rows: Any) -> None:
        for row in rows:
            key = tuple(_plain(d, v) for d, v in zip(dims, row[:-1], strict=True))
            totals[key] = totals.get(key, 0) + int(row[-1] or 0)

    def from_tickets(*where: Any) -> None:
        cols = [ticket_cols[d] for d in dims]
        query = select(*cols, func.count()).where(*where).group_by(*cols)
        if statuses:
            query = query.where(Ticket.status.in_(statuses))
        add(db.session.execute(query))

    if actor.role == Role.USER:
        from_tickets(Ticket.requester_id == actor.id)
    else:
        cols = [getattr(TicketCount, d) for d in dims]
        query = select(*cols, func.sum(TicketCount.n)).group_by(*cols)
        if statuses:
            query = query.where(TicketCount.status.in_([s.value for s in statuses]))
        query = query.where(
            TicketCount.category_id >= 0
            if "category_id" in dims
            else TicketCount.category_id == ALL
        )
        if actor.role == Role.ADMIN:
            query = query.where(
                TicketCount.assignee_key >= 0
                if "assignee_key" in dims
                else TicketCount.assignee_key == ALL
            )
        if actor.role == Role.TECHNICIAN:
            query = query.where(TicketCount.assignee_key.in_([0, actor.id]))
            from_tickets(
                Ticket.requester_id == actor.id,
                Ticket.assignee_id.is_not(None),
                Ticket.assignee_id != actor.id,
            )
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
    name = connection.dialect.name
    if name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS tickets_count ON tickets")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS tickets_count_trg()")
        return
    for trigger in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
