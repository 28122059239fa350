"""Portable SQL for time arithmetic: one expression, compiled per dialect.

SQLite has no interval type, MySQL/MariaDB count with TIMESTAMPDIFF, PostgreSQL
subtracts timestamps into an interval; `seconds_between(a, b)` hides that so the
report queries are written once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # noqa: N801  (reads like SQL)
    """Seconds from `start` to `end` (both naive UTC timestamps) as a number."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # PostgreSQL (and the SQL standard): timestamp - timestamp is an interval.
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "mysql")
@compiles(seconds_between, "mariadb")
def _seconds_mysql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"TIMESTAMPDIFF(SECOND, {compiler.process(start, **kw)}, {compiler.process(end, **kw)})"


def day_of(column: Any) -> Any:
    """The calendar day (UTC) of a timestamp; DATE() exists on all three databases.

    SQLite returns 'YYYY-MM-DD' text, the others a date: callers normalise with
    `day_key`.
    """
    return func.date(column)


def day_key(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()
