"""Row triggers on `tickets` in the three dialects: the skeleton the summary tables share.

`ticket_counts` (counters.py) and `ticket_days` (daily.py) each say what to do
when a ticket is inserted, deleted or changed; this module wraps those bodies in
SQLite, PostgreSQL (one plpgsql function) and MySQL/MariaDB triggers named
after `prefix`, and runs the update body only when a watched column changed.
"""

from __future__ import annotations

from typing import Any


def dialect_of(connection: Any) -> str:
    """'sqlite', 'postgresql' or 'mysql' (MariaDB included)."""
    name = str(connection.dialect.name)
    return "mysql" if name in ("mysql", "mariadb") else name


def _names(prefix: str) -> tuple[str, str, str]:
    return f"{prefix}_ai", f"{prefix}_ad", f"{prefix}_au"


def row_triggers(
    dialect: str,
    prefix: str,
    watched: list[str] | tuple[str, ...],
    on_insert: str,
    on_delete: str,
    on_update: str,
) -> list[str]:
    """DDL (idempotent) for AFTER INSERT / DELETE / UPDATE triggers on tickets.

    The bodies are statements ending in ';' that may use NEW / OLD.
    """
    cols = ", ".join(watched)
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
        ai, ad, au = _names(prefix)
        return [
            *(f"DROP TRIGGER IF EXISTS {t}" for t in (ai, ad, au)),
            f"CREATE TRIGGER {ai} AFTER INSERT ON tickets BEGIN {on_insert} END",
            f"CREATE TRIGGER {ad} AFTER DELETE ON tickets BEGIN {on_delete} END",
            f"CREATE TRIGGER {au} AFTER UPDATE OF {cols} ON tickets "
            f"WHEN {changed} BEGIN {on_update} END",
        ]
    if dialect == "postgresql":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        return [
            f"""
            CREATE OR REPLACE FUNCTION {prefix}_trg() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN {on_insert}
              ELSIF TG_OP = 'DELETE' THEN {on_delete}
              ELSIF {changed} THEN {on_update}
              END IF;
              RETURN NULL;
            END $$
            """,
            f"DROP TRIGGER IF EXISTS {prefix} ON tickets",
            f"CREATE TRIGGER {prefix} AFTER INSERT OR DELETE OR UPDATE OF {cols} "
            f"ON tickets FOR EACH ROW EXECUTE FUNCTION {prefix}_trg()",
        ]
    same = " AND ".join(f"OLD.{c} <=> NEW.{c}" for c in watched)
    ai, ad, au = _names(prefix)
    each_row = "AFTER {event} ON tickets FOR EACH ROW BEGIN {body} END"
    return [
        *(f"DROP TRIGGER IF EXISTS {t}" for t in (ai, ad, au)),
        f"CREATE TRIGGER {ai} " + each_row.format(event="INSERT", body=on_insert),
        f"CREATE TRIGGER {ad} " + each_row.format(event="DELETE", body=on_delete),
        f"CREATE TRIGGER {au} "
        + each_row.format(event="UPDATE", body=f"IF NOT ({same}) THEN {on_update} END IF;"),
    ]


def drop_row_triggers(connection: Any, prefix: str) -> None:
    if dialect_of(connection) == "postgresql":
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {prefix} ON tickets")
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {prefix}_trg()")
        return
    for trigger in _names(prefix):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
