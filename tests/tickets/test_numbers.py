"""Ticket numbers never collide, also when many tickets are created at once.

Each thread has its own app context, so its own session, connection and
transaction — like concurrent requests on a real server.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timezone

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket, TicketSequence
from helpdesk.users.models import User

THREADS = 8


def _create_concurrently(app, user_ids: list[int], category_id: int) -> list[str]:
    barrier = threading.Barrier(len(user_ids))
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(user_id: int) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                barrier.wait(timeout=30)
                ticket = services.create_ticket(
                    user, title="Concurrent", description="d", category_id=category_id
                )
                db.session.commit()
                with lock:
                    numbers.append(ticket.number)
        except BaseException as exc:  # reported to the main thread below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return numbers


def test_numbers_unique_under_concurrent_creation(app, people, category):
    """First round: the year's counter row does not exist yet (the INSERT race);
    second round: every creator UPDATEs the existing row (the lock queue)."""
    year = datetime.now(timezone.utc).year
    assert db.session.get(TicketSequence, year) is None
    ids = [people[k].id for k in ("user", "user2", "tech", "tech2")] * (THREADS // 4)
    db.session.commit()  # the main thread holds no lock while the workers run

    first = _create_concurrently(app, ids, category.id)
    second = _create_concurrently(app, ids, category.id)

    numbers = first + second
    assert len(numbers) == 2 * THREADS
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(rf"TKT-{year}-\d{{6}}", n) for n in numbers)
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 2 * THREADS + 1))
    db.session.commit()
    print("ROWS", db.session.execute(select(TicketSequence.year, TicketSequence.last_value)).all())
    assert db.session.get(TicketSequence, year).last_value == 2 * THREADS
    assert db.session.scalar(select(func.count(Ticket.id))) == 2 * THREADS


def test_numbers_are_per_year_and_padded(app):
    assert services.next_ticket_number(2030) == "TKT-2030-000001"
    assert services.next_ticket_number(2030) == "TKT-2030-000002"
    assert services.next_ticket_number(2031) == "TKT-2031-000001"
    db.session.commit()
    assert db.session.get(TicketSequence, 2030).last_value == 2


def test_rolled_back_creation_does_not_leave_a_gap_in_later_numbers(people, category):
    """A failed request rolls back its increment too; the next number is not skipped."""
    first = services.create_ticket(
        people["user"], title="a", description="d", category_id=category.id
    ).number
    db.session.rollback()
    second = services.create_ticket(
        people["user"], title="b", description="d", category_id=category.id
    ).number
    db.session.commit()
    assert first == second


def test_two_technicians_taking_the_same_ticket_at_once(app, people, make_ticket):
    """The conditional UPDATE: exactly one wins, the other gets Conflict."""
    from helpdesk.errors import Conflict
    from helpdesk.tickets.models import EventKind, TicketEvent

    ticket_id = make_ticket(people["user"]).id
    tech_ids = [people["tech"].id, people["tech2"].id]
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def work(user_id: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            ticket = db.session.get(Ticket, ticket_id)  # both see it unassigned
            barrier.wait(timeout=30)
            try:
                services.take_ticket(user, ticket)
                db.session.commit()
                outcomes[user_id] = "took"
            except Conflict:
                db.session.rollback()
                outcomes[user_id] = "conflict"
            except BaseException as exc:  # reported below
                outcomes[user_id] = repr(exc)

    threads = [threading.Thread(target=work, args=(uid,)) for uid in tech_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes.values()) == ["conflict", "took"], outcomes
    winner = next(uid for uid, o in outcomes.items() if o == "took")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket_id).assignee_id == winner
    assigned = db.session.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.ASSIGNED
        )
    ).all()
    assert [e.actor_id for e in assigned] == [winner]
