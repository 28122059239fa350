"""Warnings and breaches: the sweep that finds clocks near or past their due.

`Ticket.sla_next_alert` holds each ticket's next pending alert instant (the
warning while none was sent, then the due) and is cleared once nothing is left to
send, so the sweep reads one index range of exactly the tickets that need an
alert now — never a scan of the open tickets.

Each alert is claimed with a conditional UPDATE (`alerted` moves from the value
this run read to the new stage): of two workers sweeping at once only one
matches the row, so a warning or a breach is sent once per ticket and clock.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.notifications.models import NotificationKind
from helpdesk.notifications.services import notify
from helpdesk.sla import business_time as bt
from helpdesk.sla import clocks
from helpdesk.sla.clocks import BREACHED, CLOCKS, NONE, RESPONSE, WARNED
from helpdesk.sla.models import Policy
from helpdesk.tickets.models import EventKind, Ticket
from helpdesk.tickets.permissions import can_view_ticket
from helpdesk.users.models import Role, User

BATCH = 500  # tickets per sweep run; a backlog is worked off minute by minute


def due_for_alert(now: datetime, limit: int = BATCH) -> list[int]:
    """Ids of tickets with an alert pending at `now` (an index range on sla_next_alert)."""
    return list(
        db.session.scalars(
            select(Ticket.id)
            .where(Ticket.sla_next_alert <= now.replace(tzinfo=None))
            .order_by(Ticket.sla_next_alert)
            .limit(limit)
        )
    )


def sweep(now: datetime | None = None, limit: int = BATCH) -> int:
    """Send the pending warnings and breaches; returns how many alerts were sent."""
    now = bt.as_utc(now or utcnow())
    sent = 0
    for ticket_id in due_for_alert(now, limit):
        sent += alert_ticket(ticket_id, now)
    return sent


def _claim(ticket: Ticket, clock: str, seen: int, stage: int) -> bool:
    column = Ticket.sla_response_alerted if clock == RESPONSE else Ticket.sla_resolution_alerted
    result = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, column == seen)
        .values({column: stage})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def alert_ticket(ticket_id: int, now: datetime) -> int:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return 0
    policy = clocks.policy_of(ticket)
    sent = 0
    for clock in CLOCKS:
        due = clocks.get_field(ticket, clock, "due")
        seen = clocks.get_field(ticket, clock, "alerted")
        if policy is None or due is None or clocks.get_field(ticket, clock, "met") is not None:
            continue
        if bt.as_utc(due) <= now:
            stage = BREACHED
        elif seen == NONE and clocks.warn_at(ticket, policy, clock) <= now:
            stage = WARNED
        else:
            continue
        if stage <= seen or not _claim(ticket, clock, seen, stage):
            continue
        clocks.set_field(ticket, clock, "alerted", stage)
        kind = EventKind.SLA_BREACHED if stage == BREACHED else EventKind.SLA_WARNING
        actor = system_actor(ticket)
        clocks.timeline(ticket, actor, kind, clock)
        for person in recipients(ticket, policy):
            notify(
                person,
                NotificationKind.SLA_BREACHED
                if stage == BREACHED
                else NotificationKind.SLA_WARNING,
                actor=None,
                ticket=ticket,
                detail=f"{ticket.number} {clock}",
            )
        sent += 1
    # Re-derive the next alert from the stages now stored (also clears a stale one).
    db.session.flush()
    clocks.recompute(ticket, policy)
    db.session.flush()
    return sent


def recipients(ticket: Ticket, policy: Policy) -> list[User]:
    """The assignee, or the technicians who can take it while unassigned; admins too
    when the policy says so.  Only people who may see the ticket."""
    people: dict[int, User] = {}
    if ticket.assignee is not None:
        people[ticket.assignee.id] = ticket.assignee
    else:
        for tech in db.session.scalars(
            select(User).where(User.role == Role.TECHNICIAN, User.active.is_(True))
        ):
            people[tech.id] = tech
    if policy.notify_admins or not people:
        for admin in db.session.scalars(
            select(User).where(User.role == Role.ADMIN, User.active.is_(True))
        ):
            people[admin.id] = admin
    return [p for p in people.values() if p.active and can_view_ticket(p, ticket)]


def system_actor(ticket: Ticket) -> User:
    """Timeline rows need an actor; the clocks act for the desk, shown without a name
    (the template renders SLA events as the system's).  The first administrator."""
    admin = db.session.scalar(
        select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1)
    )
    return admin or ticket.requester


def describe(kind: NotificationKind, detail: str) -> str:
    """The notification's sentence in the current language."""
    number, _sep, clock = detail.partition(" ")
    what = _("first response") if clock == RESPONSE else _("resolution")
    if kind == NotificationKind.SLA_WARNING:
        return _("%(ticket)s: the %(target)s target is at risk", ticket=number, target=what)
    return _("%(ticket)s: the %(target)s target was breached", ticket=number, target=what)
