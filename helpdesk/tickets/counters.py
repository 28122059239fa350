"""Maintained ticket counters: badges and dashboard figures without counting the table.

`ticket_counts` holds one row per (status, assignee) with the number of tickets.
Triggers keep it exact inside the very transaction that changes a ticket, on
SQLite, MariaDB/MySQL and PostgreSQL alike, whatever path wrote the row (the
services, the demo seeder's bulk inserts, a manual fix in SQL).  A trigger sees
the row as it really is when it is changed: two requests that both loaded a
ticket as `open` and move it to different statuses still leave exact counts,
which bookkeeping from the ORM's stale "old value" could not.

Deadlocks: an update touches two counter rows; the trigger always locks the
smaller (status, assignee) key first, so two transactions cannot wait on each
other through the counters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets.models import Status, Ticket, TicketCount
from helpdesk.users.models import Role, User

TRIGGERS = ("tickets_count_ai", "tickets_count_ad", "tickets_count_au")

_SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS tickets_count_ai AFTER INSERT ON tickets BEGIN
      INSERT INTO ticket_counts (status, assignee_key, n)
      VALUES (NEW.status, COALESCE(NEW.assignee_id, 0), 1)
      ON CONFLICT (status, assignee_key) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS tickets_count_ad AFTER DELETE ON tickets BEGIN
      UPDATE ticket_counts SET n = n - 1
      WHERE status = OLD.status AND assignee_key = COALESCE(OLD.assignee_id, 0);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS tickets_count_au AFTER UPDATE OF status, assignee_id ON tickets
    WHEN OLD.status IS NOT NEW.status OR OLD.assignee_id IS NOT NEW.assignee_id BEGIN
      UPDATE ticket_counts SET n = n - 1
      WHERE status = OLD.status AND assignee_key = COALESCE(OLD.assignee_id, 0);
      INSERT INTO ticket_counts (status, assignee_key, n)
      VALUES (NEW.status, COALESCE(NEW.assignee_id, 0), 1)
      ON CONFLICT (status, assignee_key) DO UPDATE SET n = n + 1;
    END
    """,
]

_PG_ADD = """
      INSERT INTO ticket_counts (status, assignee_key, n) VALUES ({s}, {a}, {d})
      ON CONFLICT (status, assignee_key) DO UPDATE SET n = ticket_counts.n + EXCLUDED.n;"""
_PG_OLD = _PG_ADD.format(s="OLD.status", a="COALESCE(OLD.assignee_id, 0)", d=-1)
_PG_NEW = _PG_ADD.format(s="NEW.status", a="COALESCE(NEW.assignee_id, 0)", d=1)
_POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION tickets_count_trg() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN {_PG_NEW}
      ELSIF TG_OP = 'DELETE' THEN {_PG_OLD}
      ELSIF OLD.status IS DISTINCT FROM NEW.status
            OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id THEN
        IF (OLD.status, COALESCE(OLD.assignee_id, 0))
           < (NEW.status, COALESCE(NEW.assignee_id, 0)) THEN {_PG_OLD} {_PG_NEW}
        ELSE {_PG_NEW} {_PG_OLD}
        END IF;
      END IF;
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS tickets_count ON tickets",
    """
    CREATE TRIGGER tickets_count AFTER INSERT OR DELETE OR UPDATE OF status, assignee_id
    ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_count_trg()
    """,
]

_MY_ADD = """
      INSERT INTO ticket_counts (status, assignee_key, n) VALUES ({s}, {a}, {d})
      ON DUPLICATE KEY UPDATE n = n + VALUES(n);"""
_MY_OLD = _MY_ADD.format(s="OLD.status", a="COALESCE(OLD.assignee_id, 0)", d=-1)
_MY_NEW = _MY_ADD.format(s="NEW.status", a="COALESCE(NEW.assignee_id, 0)", d=1)
_MYSQL = [
    "DROP TRIGGER IF EXISTS tickets_count_ai",
    f"CREATE TRIGGER tickets_count_ai AFTER INSERT ON tickets FOR EACH ROW {_MY_NEW.strip()}",
    "DROP TRIGGER IF EXISTS tickets_count_ad",
    f"CREATE TRIGGER tickets_count_ad AFTER DELETE ON tickets FOR EACH ROW {_MY_OLD.strip()}",
    "DROP TRIGGER IF EXISTS tickets_count_au",
    f"""
    CREATE TRIGGER tickets_count_au AFTER UPDATE ON tickets FOR EACH ROW
    BEGIN
      IF NOT (OLD.status <=> NEW.status AND OLD.assignee_id <=> NEW.assignee_id) THEN
        IF (OLD.status, COALESCE(OLD.assignee_id, 0))
           < (NEW.status, COALESCE(NEW.assignee_id, 0)) THEN {_MY_OLD} {_MY_NEW}
        ELSE {_MY_NEW} {_MY_OLD}
        END IF;
      END IF;
    END
    """,
]

DDL = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL, "mysql": _MYSQL, "mariadb": _MYSQL}


def install(connection: Any) -> None:
    """Create the triggers (idempotent) and fill the counters from the tickets table."""
    for statement in DDL[connection.dialect.name]:
        connection.exec_driver_sql(statement)
    rebuild(connection)


def rebuild(connection: Any) -> None:
    """Recount from scratch (migration, repair); one full scan, never per request."""
    connection.execute(TicketCount.__table__.delete())
    assignee_key = func.coalesce(Ticket.assignee_id, 0)
    rows = connection.execute(
        select(Ticket.__table__.c.status, assignee_key, func.count()).group_by(
            Ticket.__table__.c.status, assignee_key
        )
    ).all()
    if rows:
        connection.execute(
            TicketCount.__table__.insert(),
            [{"status": s, "assignee_key": a, "n": n} for s, a, n in rows],
        )


def status_counts(actor: User) -> dict[str, int]:
    """Tickets per status among those `actor` may see, without scanning the tickets table.

    admin: the sum of all counter rows; technician: counter rows of their own
    queue and the unassigned one, plus tickets they requested that someone else
    works on (their own requests: a short index range); user: an index-only
    range over their own tickets.  Must agree with `visible_clause`.
    """
    counts = {s.value: 0 for s in Status}
    if not actor.active:
        return counts
    if actor.role == Role.USER:
        rows: Any = db.session.execute(
            select(Ticket.status, func.count())
            .where(Ticket.requester_id == actor.id)
            .group_by(Ticket.status)
        )
        _add(counts, rows)
        return counts
    counter_rows = select(TicketCount.status, func.sum(TicketCount.n)).group_by(TicketCount.status)
    if actor.role == Role.TECHNICIAN:
        counter_rows = counter_rows.where(TicketCount.assignee_key.in_([0, actor.id]))
        _add(
            counts,
            db.session.execute(
                select(Ticket.status, func.count())
                .where(
                    Ticket.requester_id == actor.id,
                    Ticket.assignee_id.is_not(None),
                    Ticket.assignee_id != actor.id,
                )
                .group_by(Ticket.status)
            ),
        )
    _add(counts, db.session.execute(counter_rows))
    return counts


def _add(counts: dict[str, int], rows: Any) -> None:
    for status, n in rows:
        key = status.value if isinstance(status, Status) else Status(status).value
        counts[key] += int(n or 0)


def uninstall(connection: Any) -> None:
    name = connection.dialect.name
    if name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS tickets_count ON tickets")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS tickets_count_trg()")
        return
    for trigger in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
