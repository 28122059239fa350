"""Human ticket numbers (TKT-<year>-<n>) that never collide."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.errors import Conflict
from helpdesk.extensions import db
from helpdesk.tickets.models import TicketSequence


def next_ticket_number(year: int | None = None) -> str:
    """Allocate TKT-<year>-<n>; never the same number twice, also under concurrency.

    The UPDATE takes the year row's write lock, so concurrent creators queue on it
    until the holder commits; the SELECT that follows in the same transaction reads
    the transaction's own write (PostgreSQL READ COMMITTED, InnoDB REPEATABLE READ
    and SQLite alike), so each creator gets its own value.
    """
    year = year or datetime.now(timezone.utc).year
    _ensure_sequence_row(year)
    db.session.execute(
        update(TicketSequence)
        .where(TicketSequence.year == year)
        .values(last_value=TicketSequence.last_value + 1)
        .execution_options(synchronize_session=False)
    )
    value = db.session.scalar(select(TicketSequence.last_value).where(TicketSequence.year == year))
    if value is None:  # the row vanished: only a hand-edited database gets here
        raise Conflict("Could not allocate a ticket number; try again.")
    return f"TKT-{year}-{value:06d}"


def _ensure_sequence_row(year: int) -> None:
    """Create the year's counter row the first time, without racing other creators.

    On MariaDB/MySQL, transactions that INSERT the same new key and then UPDATE it
    deadlock (each keeps a shared lock from the duplicate-key check) and InnoDB rolls
    the loser back whole, savepoint included. So the row is inserted and committed
    on a connection of its own and the request's transaction only ever UPDATEs it.
    SQLite has a single writer, so a savepoint is enough there (and a second
    connection would wait for our own write lock).
    """
    if db.session.scalar(select(TicketSequence.year).where(TicketSequence.year == year)):
        return
    if db.session.get_bind().dialect.name == "sqlite":
        try:
            with db.session.begin_nested():
                db.session.add(TicketSequence(year=year, last_value=0))
        except IntegrityError:
            pass  # another creator made it first
        return
    with db.engine.connect() as connection:
        try:
            connection.execute(insert(TicketSequence).values(year=year, last_value=0))
            connection.commit()
        except IntegrityError:
            connection.rollback()  # another creator made it first
