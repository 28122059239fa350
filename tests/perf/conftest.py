"""A query counter built on SQLAlchemy's engine events (no mocks: it counts real statements)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from helpdesk.extensions import db


class QueryLog:
    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(s for s, _ in self.statements)


@contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Every statement the app sends to the database while the block runs."""
    log = QueryLog()
    engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        log.statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
