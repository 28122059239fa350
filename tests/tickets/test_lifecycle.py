"""Ticket services: every transition allowed and refused per role, and the timeline.

The expected outcomes are written out here from the product contract (DESIGN.md §3),
not computed from `helpdesk.tickets.permissions`, so a change in the rules fails a test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import EventKind, Status, Ticket, TicketEvent

STATUSES = [s.value for s in Status]

# Who acts on which ticket. The ticket is always requested by alice ("user").
#   assigned: the ticket is assigned to "tech"; queue: it is unassigned.
ACTORS = {
    "admin": ("admin", "assigned"),
    "tech_assigned": ("tech", "assigned"),
    "tech_other": ("tech2", "assigned"),
    "tech_queue": ("tech2", "queue"),
    "requester": ("user", "assigned"),
    "other_user": ("user2", "assigned"),
}
NOT_VISIBLE = {"tech_other", "other_user"}
ASSIGNED_STAFF = {"admin", "tech_assigned"}


def _expected_status_change(actor: str, old: str, new: str) -> str:
    """'ok', 'denied' (PermissionDenied) or 'hidden' (NotFound), from the contract."""
    if actor in NOT_VISIBLE:
        return "hidden"
    if actor in ASSIGNED_STAFF:
        # staff move a ticket anywhere; a closed ticket can only be reopened
        return "ok" if old != "closed" or new == "open" else "denied"
    if actor == "requester":
        if old in ("resolved", "closed"):
            return "ok" if new == "open" or (old == "resolved" and new == "closed") else "denied"
        return "ok" if new == "closed" else "denied"
    return "denied"  # technician on the unassigned queue must take the ticket first


def _setup(people, make_ticket, kind: str, status: str = "open"):
    ticket = make_ticket(people["user"], title="Printer jammed")
    if kind == "assigned":
        services.assign_ticket(people["admin"], ticket, people["tech"].id)
    if status != "open":
        ticket.status = Status(status)  # arrange directly: the transition itself is under test
    db.session.commit()
    return ticket


def _outcome(call) -> str:
    try:
        call()
    except NotFound:
        db.session.rollback()
        return "hidden"
    except PermissionDenied:
        db.session.rollback()
        return "denied"
    except Conflict:
        db.session.rollback()
        return "conflict"
    except InvalidInput:
        db.session.rollback()
        return "invalid"
    db.session.commit()
    return "ok"


def _events(ticket: Ticket, kind: EventKind | None = None) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if kind is not None:
        query = query.where(TicketEvent.kind == kind)
    return list(db.session.scalars(query.order_by(TicketEvent.id)))


@pytest.mark.parametrize("actor_key", list(ACTORS))
def test_status_transition_matrix(people, make_ticket, actor_key):
    """Every (old → new) pair for each role: allowed ones change the ticket and
    write one STATUS event; refused ones leave everything as it was.
    (One database per role, a fresh ticket per pair: the loop keeps the suite fast.)"""
    username, kind = ACTORS[actor_key]
    actor = people[username]
    for old, new in [(o, n) for o in STATUSES for n in STATUSES if o != n]:
        ticket = _setup(people, make_ticket, kind, old)
        before = len(_events(ticket))
        expected = _expected_status_change(actor_key, old, new)
        got = _outcome(lambda t=ticket, n=new: services.change_status(actor, t, n))
        assert got == expected, f"{actor_key}: {old} -> {new}"
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket.id)
        events = _events(ticket)
        if expected == "ok":
            assert ticket.status.value == new
            last = events[-1]
            assert (last.kind, last.actor_id, last.old_value, last.new_value) == (
                EventKind.STATUS,
                actor.id,
                old,
                new,
            )
            assert len(events) == before + 1
        else:
            assert ticket.status.value == old
            assert len(events) == before


def test_status_timestamps_follow_the_lifecycle(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    tech, alice = people["tech"], people["user"]
    services.change_status(tech, ticket, "resolved")
    assert ticket.resolved_at is not None and ticket.closed_at is None
    services.change_status(alice, ticket, "closed")
    assert ticket.closed_at is not None
    services.change_status(alice, ticket, "open")  # reopen
    assert ticket.resolved_at is None and ticket.closed_at is None
    db.session.commit()
    kinds = [(e.kind, e.old_value, e.new_value) for e in _events(ticket, EventKind.STATUS)]
    assert kinds == [
        (EventKind.STATUS, "open", "resolved"),
        (EventKind.STATUS, "resolved", "closed"),
        (EventKind.STATUS, "closed", "open"),
    ]


def test_unknown_status_is_invalid_input(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    with pytest.raises(InvalidInput):
        services.change_status(people["admin"], ticket, "bogus")


# (actor, ticket kind) → outcome of taking the ticket
TAKE = {
    ("admin", "queue"): "ok",
    ("admin", "assigned"): "conflict",
    ("tech_queue", "queue"): "ok",
    ("tech_assigned", "assigned"): "conflict",
    ("tech_other", "assigned"): "hidden",
    ("requester", "queue"): "denied",
    ("requester", "assigned"): "denied",
    ("other_user", "queue"): "hidden",
    ("other_user", "assigned"): "hidden",
}


def _check_take(people, make_ticket, actor_key, kind):
    expected = TAKE[actor_key, kind]
    username = ACTORS[actor_key][0]
    actor = people[username]
    ticket = _setup(people, make_ticket, kind)
    before_assignee = ticket.assignee_id
    got = _outcome(lambda: services.take_ticket(actor, ticket))
    assert got == expected, f"take {kind}"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    if expected == "ok":
        assert ticket.assignee_id == actor.id
        assert ticket.status == Status.IN_PROGRESS  # taking an open ticket starts the work
        assigned = _events(ticket, EventKind.ASSIGNED)[-1]
        assert (assigned.actor_id, assigned.old_value, assigned.new_value) == (
            actor.id,
            None,
            actor.display_name,
        )
    else:
        assert ticket.assignee_id == before_assignee


def test_take_closed_ticket_is_refused(people, make_ticket):
    ticket = _setup(people, make_ticket, "queue", "closed")
    assert _outcome(lambda: services.take_ticket(people["tech"], ticket)) == "denied"


def test_take_race_only_one_wins(people, make_ticket):
    """The conditional UPDATE: a stale object cannot overwrite a newer assignee."""
    ticket = _setup(people, make_ticket, "queue")
    stale_id = ticket.id
    services.take_ticket(people["tech"], ticket)
    db.session.commit()
    # A second technician acting on the same row as if still unassigned
    db.session.execute(select(Ticket).where(Ticket.id == stale_id))
    ticket = db.session.get(Ticket, stale_id)
    ticket.assignee_id = None  # what tech2's page showed a moment ago, not flushed
    with db.session.no_autoflush, pytest.raises(Conflict):
        services.take_ticket(people["tech2"], ticket)
    db.session.rollback()
    assert db.session.get(Ticket, stale_id).assignee_id == people["tech"].id


ASSIGN = {
    "admin": "ok",
    "tech_assigned": "denied",
    "tech_queue": "denied",
    "tech_other": "hidden",
    "requester": "denied",
    "other_user": "hidden",
}


def _check_assign(people, make_ticket, actor_key):
    username, kind = ACTORS[actor_key]
    actor = people[username]
    ticket = _setup(people, make_ticket, kind)
    old = ticket.assignee.display_name if ticket.assignee else None
    got = _outcome(lambda: services.assign_ticket(actor, ticket, people["tech2"].id))
    assert got == ASSIGN[actor_key], "assign"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    if got == "ok":
        assert ticket.assignee_id == people["tech2"].id
        event = _events(ticket, EventKind.ASSIGNED)[-1]
        assert (event.actor_id, event.old_value, event.new_value) == (
            actor.id,
            old,
            people["tech2"].display_name,  # the timeline names people, not accounts
        )
    else:
        assert (ticket.assignee.display_name if ticket.assignee else None) == old
        assert len(_events(ticket, EventKind.ASSIGNED)) == (1 if old else 0)


def test_assign_only_to_active_staff(people, make_ticket, make_user):
    from helpdesk.users.services import set_active

    ticket = _setup(people, make_ticket, "queue")
    gone = make_user("technician", "gone")
    set_active(people["admin"], gone, False)
    db.session.commit()
    for target_id in (people["user2"].id, 999999, gone.id):
        with pytest.raises(InvalidInput):
            services.assign_ticket(people["admin"], ticket, target_id)
        db.session.rollback()
    assert db.session.get(Ticket, ticket.id).assignee_id is None


def test_unassign_writes_event(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    services.assign_ticket(people["admin"], ticket, None)
    db.session.commit()
    event = _events(ticket, EventKind.ASSIGNED)[-1]
    assert (event.old_value, event.new_value) == (people["tech"].display_name, None)
    assert ticket.assignee_id is None


PRIORITY_OR_CATEGORY = {
    "admin": "ok",
    "tech_assigned": "ok",
    "tech_queue": "denied",
    "tech_other": "hidden",
    "requester": "denied",
    "other_user": "hidden",
}


def _check_priority(people, make_ticket, actor_key):
    username, kind = ACTORS[actor_key]
    actor = people[username]
    ticket = _setup(people, make_ticket, kind)
    got = _outcome(lambda: services.change_priority(actor, ticket, "urgent"))
    assert got == PRIORITY_OR_CATEGORY[actor_key], "priority"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    events = _events(ticket, EventKind.PRIORITY)
    if got == "ok":
        assert ticket.priority.value == "urgent"
        assert [(e.actor_id, e.old_value, e.new_value) for e in events] == [
            (actor.id, "medium", "urgent")
        ]
    else:
        assert ticket.priority.value == "medium" and events == []


def _check_category(people, make_ticket, actor_key):
    username, kind = ACTORS[actor_key]
    actor = people[username]
    ticket = _setup(people, make_ticket, kind)
    other = services.get_category(_software(people).id)
    got = _outcome(lambda: services.change_category(actor, ticket, other.id))
    assert got == PRIORITY_OR_CATEGORY[actor_key], "category"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    events = _events(ticket, EventKind.CATEGORY)
    if got == "ok":
        assert ticket.category_id == other.id
        assert [(e.actor_id, e.old_value, e.new_value) for e in events] == [
            (actor.id, "Hardware", "Software")
        ]
    else:
        assert ticket.category.name == "Hardware" and events == []


def test_category_change_to_inactive_is_invalid(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    other = services.create_category(None, "Old")
    services.update_category(people["admin"], other, active=False)
    db.session.commit()
    with pytest.raises(InvalidInput):
        services.change_category(people["admin"], ticket, other.id)


COMMENT = {
    # actor → (public comment, internal note)
    "admin": ("ok", "ok"),
    "tech_assigned": ("ok", "ok"),
    "tech_queue": ("ok", "ok"),
    "tech_other": ("hidden", "hidden"),
    "requester": ("ok", "denied"),
    "other_user": ("hidden", "hidden"),
}


def _check_comment(people, make_ticket, actor_key, internal):
    username, kind = ACTORS[actor_key]
    actor = people[username]
    ticket = _setup(people, make_ticket, kind)
    got = _outcome(
        lambda: services.add_comment(
            actor, ticket, "Have you tried *turning it off*?", internal=internal
        )
    )
    assert got == COMMENT[actor_key][1 if internal else 0], f"comment internal={internal}"
    events = _events(ticket, EventKind.NOTE if internal else EventKind.COMMENT)
    if got == "ok":
        assert len(events) == 1
        event = events[0]
        assert event.actor_id == actor.id and event.internal is internal
        assert event.comment.body == "Have you tried *turning it off*?"
        assert "<em>turning it off</em>" in event.comment.body_html
    else:
        assert events == []


def test_comment_on_closed_ticket(people, make_ticket):
    """A closed ticket takes no public comment (reopen first); staff may still note."""
    ticket = _setup(people, make_ticket, "assigned", "closed")
    with pytest.raises(InvalidInput):
        services.add_comment(people["user"], ticket, "hello?")
    db.session.rollback()
    services.add_comment(people["tech"], ticket, "warranty expired", internal=True)
    db.session.commit()


def test_comment_body_is_validated(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    for body in ["", "   \n  ", "x" * (services.BODY_MAX + 1)]:
        with pytest.raises(InvalidInput):
            services.add_comment(people["user"], ticket, body)


def test_first_response_is_the_first_public_staff_comment(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    services.add_comment(people["user"], ticket, "any news?")
    services.add_comment(people["tech"], ticket, "internal only", internal=True)
    assert ticket.first_response_at is None
    services.add_comment(people["tech"], ticket, "on it")
    assert ticket.first_response_at is not None


def test_internal_notes_never_in_a_users_timeline(people, make_ticket):
    ticket = _setup(people, make_ticket, "assigned")
    services.add_comment(people["user"], ticket, "public question")
    services.add_comment(people["tech"], ticket, "SECRET staff note", internal=True)
    services.add_comment(people["tech"], ticket, "public answer")
    db.session.commit()

    user_view = services.timeline(people["user"], ticket)
    assert all(not e.internal for e in user_view)
    assert [e.kind for e in user_view] == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.COMMENT,
        EventKind.COMMENT,
    ]
    assert all(e.comment is None or "SECRET" not in e.comment.body for e in user_view)

    for staff in ("admin", "tech"):
        staff_view = services.timeline(people[staff], ticket)
        assert [e.kind for e in staff_view][-2:] == [EventKind.NOTE, EventKind.COMMENT]


def test_create_ticket_writes_created_event_and_number(people, make_ticket):
    ticket = make_ticket(people["user"], title="  Lots   of   space  ", priority="high")
    assert ticket.title == "Lots of space"
    assert ticket.number.startswith("TKT-") and len(ticket.number) == len("TKT-2026-000001")
    assert ticket.status == Status.OPEN and ticket.priority.value == "high"
    (created,) = _events(ticket)
    assert (created.kind, created.actor_id, created.new_value) == (
        EventKind.CREATED,
        people["user"].id,
        ticket.number,
    )
    assert "<strong>really</strong>" in ticket.description_html


CREATE_ERRORS = [
    ("title", ""),
    ("title", "x" * 201),
    ("description", "   "),
    ("category_id", 999999),
    ("category_id", "abc"),
    ("priority", "extreme"),
]


def test_create_ticket_validation(people, category):
    for field, value in CREATE_ERRORS:
        kwargs = {"title": "ok", "description": "ok", "category_id": category.id}
        kwargs[field] = value
        with pytest.raises(InvalidInput) as info:
            services.create_ticket(people["user"], **kwargs)
        assert info.value.field == field, (field, value)
        db.session.rollback()
    assert db.session.scalar(select(Ticket.id)) is None


def test_create_ticket_in_inactive_category_is_refused(people, category):
    services.update_category(people["admin"], category, active=False)
    with pytest.raises(InvalidInput):
        services.create_ticket(people["user"], title="t", description="d", category_id=category.id)


def _check_visibility(people, make_ticket, actor_key):
    username, kind = ACTORS[actor_key]
    ticket = _setup(people, make_ticket, kind)
    visible_ids = set(
        db.session.scalars(services.visible_tickets(people[username]).with_only_columns(Ticket.id))
    )
    if actor_key in NOT_VISIBLE:
        with pytest.raises(NotFound):
            services.get_ticket(people[username], ticket.id)
        assert ticket.id not in visible_ids
    else:
        assert services.get_ticket(people[username], ticket.id) is ticket
        assert ticket.id in visible_ids


def test_deactivated_user_sees_nothing(people, make_ticket):
    from helpdesk.users.services import set_active

    ticket = _setup(people, make_ticket, "queue")
    set_active(people["admin"], people["user"], False)
    db.session.commit()
    with pytest.raises(NotFound):
        services.get_ticket(people["user"], ticket.id)
    assert services.count_tickets(people["user"]) == 0


def test_ticket_event_signal_sent_for_every_event(people, make_ticket):
    from helpdesk.signals import ticket_event

    seen: list[tuple[int, str]] = []

    def receiver(sender, event, actor):
        seen.append((sender.id, event.kind.value))

    with ticket_event.connected_to(receiver):
        ticket = _setup(people, make_ticket, "assigned")
        services.change_priority(people["tech"], ticket, "high")
        services.add_comment(people["tech"], ticket, "note", internal=True)
    assert [k for _, k in seen] == ["created", "assigned", "priority", "note"]


def _software(people):
    existing = [c for c in services.list_categories() if c.name == "Software"]
    if existing:
        return existing[0]
    category = services.create_category(None, "Software")
    db.session.commit()
    return category


@pytest.mark.parametrize("actor_key", list(ACTORS))
def test_actions_matrix(people, make_ticket, actor_key):
    """Take, assign, priority, category, comment and note, each allowed or refused
    per role (one database per role, a fresh ticket per action)."""
    for (who, kind), _expected in TAKE.items():
        if who == actor_key:
            _check_take(people, make_ticket, actor_key, kind)
    _check_assign(people, make_ticket, actor_key)
    _check_priority(people, make_ticket, actor_key)
    _check_category(people, make_ticket, actor_key)
    _check_comment(people, make_ticket, actor_key, internal=False)
    _check_comment(people, make_ticket, actor_key, internal=True)
    _check_visibility(people, make_ticket, actor_key)
