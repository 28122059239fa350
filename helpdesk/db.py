"""Declarative base, portable column types and the after-commit hook.

One transaction per request/command: services flush, the boundary commits.
Side effects (socket emits, e-mails) are queued with `after_commit()` and run
only once the data they announce is really stored.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, cast

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, MetaData, SmallInteger, event, func, select
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Every MySQL/MariaDB table is utf8mb4 whatever the server default is.
MYSQL_TABLE_ARGS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database (portable), aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class RankedEnum(TypeDecorator[Any]):
    """Stores an enum as its rank (small integer) so ORDER BY follows the meaning.

    Priorities sort low < medium < high < urgent; as strings they would not.
    """

    impl = SmallInteger
    cache_ok = True

    def __init__(self, enum_cls: type[enum.Enum], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enum_cls = enum_cls
        self._members = list(enum_cls)

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        return self._members.index(self.enum_cls(value)) + 1

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self._members[int(value) - 1]

    def rank(self, value: Any) -> int:
        return self._members.index(self.enum_cls(value)) + 1


def name_taken(
    session: Session | scoped_session[Any], model: Any, name: str, exclude_id: int | None = None
) -> bool:
    """Whether another row of `model` has this name, ignoring case (the unique index
    alone would compare case-sensitively on PostgreSQL and SQLite)."""
    query = select(model.id).where(func.lower(model.name) == name.lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return session.scalar(query) is not None


def oldest_ids(
    session: Any, id_column: Any, time_column: Any, before: datetime, limit: int, *where: Any
) -> list[Any]:
    """Ids of the oldest rows whose `time_column` is before `before` (at most `limit`,
    oldest first): one bounded run of a sweep, read through the index on that column."""
    return list(
        session.scalars(
            select(id_column).where(time_column < before, *where).order_by(time_column).limit(limit)
        )
    )


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched.

    `Session.execute` is typed as returning a plain Result, but for a DML
    statement it is a CursorResult, which carries the count.
    """
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def after_commit(session: Session | scoped_session[Any], callback: Callable[[], None]) -> None:
    """Run `callback` after the current transaction commits; drop it on rollback."""
    session.info.setdefault("after_commit", []).append(callback)


def once_committed(session: Session | scoped_session[Any], callback: Callable[[], object]) -> None:
    """Like `after_commit`, for an effect that itself reads the database (SQLAlchemy
    forbids SQL inside the commit's own hook): it runs when `commit()` has returned."""
    session.info.setdefault("once_committed", []).append(callback)


class CommitSession(FlaskSession):
    """The app's session: runs the `once_committed` callbacks after a commit."""

    def commit(self) -> None:
        super().commit()
        for callback in self.info.pop("once_committed_ready", []):
            callback()


def after_rollback(session: Session | scoped_session[Any], callback: Callable[[], None]) -> None:
    """Undo an outside effect (a file written) if the transaction rolls back."""
    session.info.setdefault("after_rollback", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # Releasing a SAVEPOINT fires after_commit too: nothing is stored yet.
        return
    session.info.pop("after_rollback", None)
    ready = session.info.pop("once_committed", [])
    session.info.setdefault("once_committed_ready", []).extend(ready)
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.nested or previous_transaction.parent is not None:
        return  # a savepoint rolled back; the outer transaction may still commit
    session.info.pop("after_commit", None)
    session.info.pop("once_committed", None)
    for callback in session.info.pop("after_rollback", []):
        callback()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite tuned for a small team: WAL, foreign keys, a generous busy timeout."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
