"""Maintained status counters agree with a real count, for every role, also under concurrency."""

from __future__ import annotations

import operator

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets import counters, services
from helpdesk.tickets.models import Status, Ticket, TicketCount
from helpdesk.tickets.permissions import visible_clause
from helpdesk.users.models import User
from tests.tickets.concurrency import hammer

OPS = {">=": operator.ge, "==": operator.eq}


def _counted(actor) -> dict[str, int]:
    """The slow, obviously right answer: count the visible tickets."""
    counts = {s.value: 0 for s in Status}
    rows = db.session.execute(
        select(Ticket.status, func.count()).where(visible_clause(actor)).group_by(Ticket.status)
    )
    for status, n in rows:
        counts[Status(status).value] = n
    return counts


def _grouped(actor, *cols) -> dict:
    rows = db.session.execute(
        select(*cols, func.count()).where(visible_clause(actor)).group_by(*cols)
    )
    return {tuple(r[:-1]): r[-1] for r in rows}


def _check_everyone(people) -> None:
    db.session.expire_all()
    for actor in people.values():
        assert services.status_counts(actor) == _counted(actor), actor.username
        by_priority = {(p,): n for p, n in counters.breakdown(actor, "priority")}
        assert by_priority == _grouped(actor, Ticket.priority), actor.username
        by_pair = {
            (c, a): n for c, a, n in counters.breakdown(actor, "category_id", "assignee_key")
        }
        assert by_pair == _grouped(
            actor, Ticket.category_id, func.coalesce(Ticket.assignee_id, 0)
        ), actor.username


def test_counts_follow_every_change(people, make_ticket, make_user):
    admin, tech, tech2, alice, bob = (
        people[k] for k in ("admin", "tech", "tech2", "user", "user2")
    )
    tickets = [make_ticket(alice) for _ in range(4)] + [make_ticket(bob) for _ in range(3)]
    own = make_ticket(tech, title="The technician's own request")
    _check_everyone(people)

    services.take_ticket(tech, tickets[0])  # assigned + in_progress
    services.assign_ticket(admin, tickets[1], tech2.id)
    services.assign_ticket(admin, own, tech2.id)  # tech still sees it as requester
    services.change_status(admin, tickets[2], "waiting")
    services.change_status(alice, tickets[3], "closed")
    services.change_priority(admin, tickets[2], "urgent")
    services.change_priority(tech, tickets[0], "low")
    other = services.create_category(admin, "Network")
    services.change_category(admin, tickets[5], other.id)
    db.session.commit()
    _check_everyone(people)

    services.assign_ticket(admin, tickets[1], None)  # back to the queue
    services.change_status(tech, tickets[0], "resolved")
    services.change_status(alice, tickets[0], "open")  # reopened
    db.session.delete(tickets[4])
    db.session.commit()
    _check_everyone(people)
    assert services.status_counts(admin)["open"] == _counted(admin)["open"] > 0

    deactivated = make_user("user", "gone")
    deactivated.active = False
    assert set(services.status_counts(deactivated).values()) == {0}


def test_rolled_back_change_leaves_counts(people, make_ticket):
    ticket = make_ticket(people["user"])
    services.change_status(people["admin"], ticket, "closed")
    db.session.rollback()
    _check_everyone(people)


def test_concurrent_status_changes_keep_exact_counts(app, people, make_ticket):
    """Many threads move the same tickets at once; the counters must still be exact."""
    admin_id = people["admin"].id
    people_ids = {k: u.id for k, u in people.items()}
    ids = [make_ticket(people["user"]).id for _ in range(3)]
    db.session.remove()
    moves = ["in_progress", "waiting", "resolved", "open", "waiting", "in_progress"]

    def change(actor, ticket, k):  # type: ignore[no-untyped-def]
        services.change_status(actor, ticket, moves[k % len(moves)])

    errors = hammer(app, admin_id, ids, len(moves), change)
    assert not errors, errors
    _check_everyone({k: db.session.get(User, i) for k, i in people_ids.items()})
    total = db.session.scalar(select(func.count()).select_from(Ticket))
    for assignee, category in ((">=", ">="), ("==", ">="), (">=", "=="), ("==", "==")):
        # Each level of the cube counts every ticket exactly once.
        level = db.session.scalar(
            select(func.sum(TicketCount.n)).where(
                TicketCount.assignee_key.operate(OPS[assignee], 0 if assignee == ">=" else -1),
                TicketCount.category_id.operate(OPS[category], 0 if category == ">=" else -1),
            )
        )
        assert level == total, (assignee, category)
