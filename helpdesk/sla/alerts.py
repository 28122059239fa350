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
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.db import rowcount, utcnow
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
    people = _People()
    with db.session.no_autoflush, clocks.calendars_cached():
        for ticket_id in due_for_alert(now, limit):
            sent += alert_ticket(ticket_id, now, people)
    return sent


class _People:
    """Who gets alerts and the policies, read once per sweep run (not once per ticket;
    the session's identity map holds rows only while something refers to them)."""

    def __init__(self) -> None:
        self._by_role: dict[Role, list[User]] = {}
        self._policies: dict[int, Policy | None] = {}

    def policy(self, ticket: Ticket) -> Policy | None:
        key = ticket.sla_policy_id
        if key is None:
            return None
        if key not in self._policies:
            self._policies[key] = clocks.policy_of(ticket)
        return self._policies[key]

    def active(self, role: Role) -> list[User]:
        if role not in self._by_role:
            self._by_role[role] = list(
                db.session.scalars(
                    select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
                )
            )
        return self._by_role[role]


def _claim(ticket: Ticket, clock: str, seen: int, stage: int) -> bool:
    column = Ticket.sla_response_alerted if clock == RESPONSE else Ticket.sla_resolution_alerted
    result = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, column == seen)
        .values({column: stage})
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


def alert_ticket(ticket_id: int, now: datetime, people: _People | None = None) -> int:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return 0
    people = people or _People()
    policy = people.policy(ticket)
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
        # Already stored by the claim: tell the session so, without writing it again.
        set_committed_value(ticket, clocks.column_name(clock, "alerted"), stage)
        kind = EventKind.SLA_BREACHED if stage == BREACHED else EventKind.SLA_WARNING
        admins = people.active(Role.ADMIN)
        clocks.timeline(ticket, admins[0] if admins else ticket.requester, kind, clock)
        for person in recipients(ticket, policy, people):
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
    clocks.recompute(ticket, policy)
    db.session.flush()
    return sent


def recipients(ticket: Ticket, policy: Policy, people: _People) -> list[User]:
    """The assignee, or the technicians who can take it while unassigned; admins too
    when the policy says so.  Only people who may see the ticket.

    (Timeline rows need an actor: the clocks act for the desk, as the first
    administrator, and the template shows SLA events without a name.)"""
    chosen: dict[int, User] = {}
    if ticket.assignee is not None:
        chosen[ticket.assignee.id] = ticket.assignee
    else:
        chosen.update((t.id, t) for t in people.active(Role.TECHNICIAN))
    if policy.notify_admins or not chosen:
        chosen.update((a.id, a) for a in people.active(Role.ADMIN))
    return [p for p in chosen.values() if p.active and can_view_ticket(p, ticket)]


def describe(kind: NotificationKind, detail: str) -> str:
    """The notification's sentence in the current language."""
    number, _sep, clock = detail.partition(" ")
    what = _("first response") if clock == RESPONSE else _("resolution")
    if kind == NotificationKind.SLA_WARNING:
        return _("%(ticket)s: the %(target)s target is at risk", ticket=number, target=what)
    return _("%(ticket)s: the %(target)s target was breached", ticket=number, target=what)
