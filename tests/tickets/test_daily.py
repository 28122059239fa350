"""Per-day figures (ticket_days) agree with the tickets themselves, for every role.

The expected figures are computed here in Python from the visible tickets, the
slow and obviously right way; the triggers must give the same after every kind
of change (services, raw SQL on timestamps, deletes, rollbacks, concurrency).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select, text, update

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import daily, services
from helpdesk.tickets.models import Ticket, TicketDay
from helpdesk.tickets.permissions import visible_clause
from helpdesk.users.models import User
from tests.tickets.concurrency import hammer

OPEN = ("open", "in_progress", "waiting")
FAR = (date(2000, 1, 1), date(2100, 1, 1))


def _expected(actor: User) -> dict:
    sums: dict = defaultdict(lambda: [0] * 7)
    for t in db.session.scalars(select(Ticket).where(visible_clause(actor))):
        row = sums[(t.created_at.date().isoformat(), t.priority)]
        row[0] += 1
        row[1] += t.status.value in OPEN
        if t.first_response_at:
            row[2] += 1
            row[3] += round((t.first_response_at - t.created_at).total_seconds() * 1000)
        if t.resolved_at:
            row[4] += 1
            row[5] += round((t.resolved_at - t.created_at).total_seconds() * 1000)
            sums[(t.resolved_at.date().isoformat(), t.priority)][6] += 1
    return {k: v for k, v in sums.items() if any(v)}


def _actual(actor: User) -> dict:
    found = daily.figures(actor, *FAR, by_priority=True)
    return {
        k: [getattr(f, c) for c in daily.SUMS]
        for k, f in found.items()
        if any(getattr(f, c) for c in daily.SUMS)
    }


def _same(expected: dict, actual: dict, who: str) -> None:
    assert expected.keys() == actual.keys(), who
    for key, want in expected.items():
        got = actual[key]
        counts = [want[i] for i in (0, 1, 2, 4, 6)], [got[i] for i in (0, 1, 2, 4, 6)]
        assert counts[0] == counts[1], (who, key)
        # Durations: each database rounds its own timestamp arithmetic to the ms.
        for i, n in ((3, want[2]), (5, want[4])):
            assert abs(want[i] - got[i]) <= 2 * n, (who, key, i)


def check_days(people) -> None:
    """Every role's figures match the tickets; the table matches a rebuild from scratch."""
    db.session.expire_all()
    for name, actor in people.items():
        _same(_expected(actor), _actual(actor), name)
    before = _table()
    daily.rebuild(db.session.connection())
    assert _table() == before
    db.session.rollback()


def _table() -> dict:
    rows = db.session.execute(select(TicketDay)).scalars()
    return {
        (r.day, r.assignee_key, r.priority): tuple(getattr(r, c) for c in daily.SUMS)
        for r in rows
        if any(getattr(r, c) for c in daily.SUMS)
    }


def test_days_follow_every_change(people, make_ticket):
    admin, tech, tech2, alice, bob = (
        people[k] for k in ("admin", "tech", "tech2", "user", "user2")
    )
    tickets = [make_ticket(alice) for _ in range(4)] + [make_ticket(bob) for _ in range(3)]
    own = make_ticket(tech, title="The technician's own request")
    check_days(people)

    services.take_ticket(tech, tickets[0])
    services.add_comment(tech, tickets[0], "On it")  # first response
    services.assign_ticket(admin, tickets[1], tech2.id)
    services.assign_ticket(admin, own, tech2.id)  # tech still sees it as requester
    services.change_status(admin, tickets[2], "waiting")
    services.change_priority(admin, tickets[2], "urgent")
    services.change_status(tech, tickets[0], "resolved")
    services.change_status(alice, tickets[3], "closed")
    db.session.commit()
    check_days(people)

    # History written straight into the rows (an import, a manual fix): the
    # triggers see those too.  Resolved on a later day than created, and a
    # ticket moved to another creation day.
    now = utcnow()
    db.session.execute(
        update(Ticket)
        .where(Ticket.id == tickets[0].id)
        .values(
            created_at=now - timedelta(days=9, hours=3),
            first_response_at=now - timedelta(days=9),
            resolved_at=now - timedelta(days=2),
        )
    )
    db.session.execute(
        update(Ticket).where(Ticket.id == own.id).values(created_at=now - timedelta(days=40))
    )
    db.session.commit()
    check_days(people)

    services.change_status(alice, tickets[0], "open")  # reopened: resolved_at cleared
    services.assign_ticket(admin, tickets[1], None)
    db.session.delete(tickets[4])
    db.session.commit()
    check_days(people)


def test_rolled_back_change_leaves_days(people, make_ticket):
    ticket = make_ticket(people["user"])
    db.session.commit()
    services.change_status(people["admin"], ticket, "resolved")
    db.session.execute(text("DELETE FROM tickets"))
    db.session.rollback()
    check_days(people)
    assert db.session.scalar(select(TicketDay.created_n)) == 1


def test_window_sums_and_averages(people, make_ticket):
    """figures() over a window: only its days count; averages in seconds."""
    alice, admin = people["user"], people["admin"]
    now = utcnow()
    inside = [make_ticket(alice) for _ in range(2)]
    outside = make_ticket(alice)
    db.session.flush()
    for t, (created, responded, resolved) in zip(
        [*inside, outside],
        [(3, 60, 3600), (1, 120, None), (20, 30, 90)],
        strict=True,
    ):
        start = now - timedelta(days=created)
        db.session.execute(
            update(Ticket)
            .where(Ticket.id == t.id)
            .values(
                created_at=start,
                first_response_at=start + timedelta(seconds=responded),
                resolved_at=None if resolved is None else start + timedelta(seconds=resolved),
            )
        )
    db.session.commit()
    first = now.date() - timedelta(days=6)
    for actor in (admin, alice):
        window = daily.total(daily.figures(actor, first, now.date()))
        assert window.created_n == 2
        assert window.average_seconds("response_ms", "responded_n") == 90.0
        assert window.average_seconds("resolution_ms", "resolved_n") == 3600.0
        assert window.resolved_on_n == 1  # the 20-day-old one was resolved long ago
    empty = daily.total(daily.figures(people["user2"], first, now.date()))
    assert empty.created_n == 0 and empty.average_seconds("response_ms", "responded_n") is None


def test_concurrent_changes_keep_exact_days(app, people, make_ticket):
    """Threads resolve, reopen and reassign the same tickets at once; rows stay exact."""
    admin_id = people["admin"].id
    tech_ids = [people["tech"].id, people["tech2"].id, None]
    people_ids = {k: u.id for k, u in people.items()}
    ids = [make_ticket(people["user"]).id for _ in range(3)]
    db.session.commit()
    db.session.remove()
    moves = ["in_progress", "resolved", "open", "waiting", "resolved", "in_progress"]

    def change(actor, ticket, k):  # type: ignore[no-untyped-def]
        if k % 2:
            services.assign_ticket(actor, ticket, tech_ids[k % 3])
        else:
            services.change_status(actor, ticket, moves[k % len(moves)])

    errors = hammer(app, admin_id, ids, len(moves), change)
    assert not errors, errors
    check_days({k: db.session.get(User, i) for k, i in people_ids.items()})
