"""One visibility rule: the predicate, the list clause, the counters and the per-day
figures agree for every role on the same data (run on each database)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets import counters, daily, services
from helpdesk.tickets.audience import UNASSIGNED_KEY, Audience
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_view_ticket, visible_clause

FAR = (date(2000, 1, 1), date(2100, 1, 1))


@pytest.fixture
def desk(people, make_ticket, make_user):  # type: ignore[no-untyped-def]
    admin, tech, tech2, alice, bob = (
        people[k] for k in ("admin", "tech", "tech2", "user", "user2")
    )
    other = services.create_category(admin, "Network")
    db.session.commit()
    mine = [make_ticket(alice) for _ in range(3)] + [make_ticket(bob, priority="high")]
    own = make_ticket(tech, title="The technician's own request", category_id=other.id)
    own2 = make_ticket(tech, title="Another own request")
    queued = make_ticket(bob, priority="urgent", category_id=other.id)
    services.take_ticket(tech, mine[0])
    services.assign_ticket(admin, mine[1], tech2.id)
    services.assign_ticket(admin, own, tech2.id)  # tech still sees it as requester
    services.take_ticket(tech, own2)  # requested and assigned: counted once
    services.change_status(admin, mine[1], "resolved")
    services.change_status(alice, mine[2], "closed")
    services.change_priority(admin, queued, "low")
    gone = make_user("technician", "gone")
    services.assign_ticket(admin, mine[3], gone.id)
    gone.active = False
    db.session.commit()
    return {**people, "gone": gone}


def _visible_ids(actor) -> set[int]:  # type: ignore[no-untyped-def]
    return set(db.session.scalars(select(Ticket.id).where(visible_clause(actor))))


def _grouped(actor, *cols) -> dict:  # type: ignore[no-untyped-def]
    rows = db.session.execute(
        select(*cols, func.count()).where(visible_clause(actor)).group_by(*cols)
    )
    return {tuple(r[:-1]): r[-1] for r in rows}


def test_predicate_clause_counters_and_days_agree_for_every_role(desk):
    db.session.expire_all()
    everything = list(db.session.scalars(select(Ticket)))
    seen_counts = set()
    for name, actor in desk.items():
        ids = _visible_ids(actor)
        # The predicate and the clause: the same tickets.
        assert {t.id for t in everything if can_view_ticket(actor, t)} == ids, name
        # The counters: the same tickets, grouped on every dimension at once.
        grouped = {
            (s, p, c, a): n
            for s, p, c, a, n in counters.breakdown(
                actor, "status", "priority", "category_id", "assignee_key"
            )
        }
        expected = {
            (s.value, p, c, a): n
            for (s, p, c, a), n in _grouped(
                actor,
                Ticket.status,
                Ticket.priority,
                Ticket.category_id,
                func.coalesce(Ticket.assignee_id, UNASSIGNED_KEY),
            ).items()
        }
        assert grouped == expected, name
        assert sum(n for *_k, n in counters.breakdown(actor, "status")) == len(ids), name
        # The per-day figures: created and resolved per day of the same tickets.
        figures = daily.figures(actor, *FAR, by_priority=True)
        created = {k: f.created_n for k, f in figures.items() if f.created_n}
        resolved = {k: f.resolved_on_n for k, f in figures.items() if f.resolved_on_n}
        visible = [t for t in everything if t.id in ids]
        assert created == Counter((t.created_at.date().isoformat(), t.priority) for t in visible), (
            name
        )
        assert resolved == Counter(
            (t.resolved_at.date().isoformat(), t.priority) for t in visible if t.resolved_at
        ), name
        seen_counts.add(len(ids))
    # The desk tells the roles apart (admin all, technicians and users less, gone nothing).
    assert len(seen_counts) >= 4 and 0 in seen_counts


def test_audience_of_each_role(desk):
    admin, tech, alice, gone = (desk[k] for k in ("admin", "tech", "user", "gone"))
    assert Audience.of(admin) == Audience(everything=True)
    assert Audience.of(tech) == Audience(queues=(tech.id, None), requester_id=tech.id)
    assert Audience.of(alice).only_requested
    assert Audience.of(gone).nobody
    assert Audience.of(admin).outside_queues() is None
    assert Audience.of(tech).counter_keys == [tech.id, UNASSIGNED_KEY]
