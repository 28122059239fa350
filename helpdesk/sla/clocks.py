"""The two clocks of a ticket (first response, resolution), driven by ticket events.

Subscribed to `helpdesk.signals.ticket_event` (inside the transaction that
changes the ticket), so every path that changes a ticket — web, API, mail, CLI —
moves its clocks without the tickets package knowing about service levels.

State on the ticket (see `Ticket.sla_*`): a clock's due is
`add(calendar, start, target + paused)` where `paused` is the business time
spent paused so far; while paused the dues are NULL (nothing can breach) and
resuming adds the pause's business time, which is the same as carrying on with
the remaining time.  Recomputing after a priority or category change is that
same formula with the new targets, from the same start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.sla import business_time as bt
from helpdesk.sla.models import BusinessCalendar, Policy
from helpdesk.tickets.models import EventKind, Status, Ticket, TicketEvent
from helpdesk.users.models import User

RESPONSE = "first_response"
RESOLUTION = "resolution"
CLOCKS = (RESPONSE, RESOLUTION)
STOPPED = (Status.RESOLVED, Status.CLOSED)
# Alert stages per clock (Ticket.sla_*_alerted).
NONE, WARNED, BREACHED = 0, 1, 2


@dataclass(frozen=True)
class ClockState:
    """What the ticket page shows for one clock."""

    name: str
    due: datetime | None  # None while paused
    met: bool | None  # None while running
    paused: bool
    left: timedelta | None  # business time left (negative: late), None when met
    alerted: int


def now_utc() -> datetime:
    return bt.as_utc(utcnow())


def matching_policy(ticket: Ticket) -> Policy | None:
    """The first active policy (by position) for the ticket's category."""
    policies = db.session.scalars(
        select(Policy).where(Policy.active.is_(True)).order_by(Policy.position, Policy.id)
    ).unique()
    for policy in policies:
        if not policy.categories or ticket.category_id in {c.id for c in policy.categories}:
            return policy
    return None


def policy_of(ticket: Ticket) -> Policy | None:
    if ticket.sla_policy_id is None:
        return None
    return db.session.get(Policy, ticket.sla_policy_id)


# Set by a batch (the sweep, a recompute run) to reuse each calendar's pure form:
# building one reads its holidays, and a batch meets the same few calendars.
_calendar_cache: ContextVar[dict[int, bt.Calendar] | None] = ContextVar(
    "sla_calendars", default=None
)


@contextmanager
def calendars_cached() -> Iterator[None]:
    token = _calendar_cache.set({})
    try:
        yield
    finally:
        _calendar_cache.reset(token)


def calendar_of(policy: Policy) -> bt.Calendar:
    cache = _calendar_cache.get()
    if cache is not None and policy.calendar_id in cache:
        return cache[policy.calendar_id]
    cal = db.session.get(BusinessCalendar, policy.calendar_id)
    assert cal is not None
    pure = cal.to_calendar()
    if cache is not None:
        cache[policy.calendar_id] = pure
    return pure


def target_of(policy: Policy, ticket: Ticket, clock: str) -> timedelta | None:
    target = policy.target(ticket.priority)
    if target is None:
        return None
    minutes = target.first_response_minutes if clock == RESPONSE else target.resolution_minutes
    return None if minutes is None else timedelta(minutes=minutes)


def _start(ticket: Ticket, clock: str) -> datetime:
    if clock == RESPONSE:
        return bt.as_utc(ticket.created_at)
    return bt.as_utc(ticket.sla_started_at or ticket.created_at)


def column_name(clock: str, field: str) -> str:
    if field == "due":
        return "first_response_due" if clock == RESPONSE else "resolution_due"
    return f"sla_{'response' if clock == RESPONSE else 'resolution'}_{field}"


def get_field(ticket: Ticket, clock: str, field: str) -> Any:
    return getattr(ticket, column_name(clock, field))


def set_field(ticket: Ticket, clock: str, field: str, value: Any) -> None:
    setattr(ticket, column_name(clock, field), value)


def _met_at(ticket: Ticket, clock: str) -> datetime | None:
    resolved = ticket.resolved_at if ticket.status in STOPPED else None
    # Resolved without a public reply: the response clock stops there too.
    at = (ticket.first_response_at or resolved) if clock == RESPONSE else resolved
    return bt.as_utc(at) if at is not None else None


def left_at(
    cal: bt.Calendar, ticket: Ticket, clock: str, target: timedelta, at: datetime
) -> timedelta:
    """Business time left on a clock at `at`, not counting the current pause."""
    until = bt.as_utc(ticket.sla_paused_at) if ticket.sla_paused_at else at
    used = bt.between(cal, _start(ticket, clock), until) - timedelta(
        seconds=get_field(ticket, clock, "paused_s") or 0
    )
    return target - used


def _warn(
    cal: bt.Calendar, start: datetime, target: timedelta, paused: timedelta, percent: int
) -> datetime:
    # Whole seconds: the sweep compares it with stored (second-precision on MySQL) times.
    return bt.add(
        cal, start, timedelta(seconds=int(target.total_seconds() * percent / 100)) + paused
    )


def warn_at(ticket: Ticket, policy: Policy, clock: str) -> datetime:
    """When a running clock's warning is due (its warning share of the target used)."""
    target = target_of(policy, ticket, clock)
    assert target is not None
    paused = timedelta(seconds=get_field(ticket, clock, "paused_s") or 0)
    return _warn(calendar_of(policy), _start(ticket, clock), target, paused, policy.warn_percent)


def recompute(ticket: Ticket, policy: Policy | None = None) -> None:
    """Dues, met flags and the derived next due / warning / alert from the clock state."""
    policy = policy or policy_of(ticket)
    if policy is None:
        for clock in CLOCKS:
            set_field(ticket, clock, "due", None)
            set_field(ticket, clock, "met", None)
        ticket.sla_next_due = ticket.sla_next_warn = ticket.sla_next_alert = None
        return
    cal = calendar_of(policy)
    next_due: list[datetime] = []
    next_warn: list[datetime] = []
    next_alert: list[datetime] = []
    for clock in CLOCKS:
        target = target_of(policy, ticket, clock)
        if target is None:
            set_field(ticket, clock, "due", None)
            set_field(ticket, clock, "met", None)
            continue
        paused = timedelta(seconds=get_field(ticket, clock, "paused_s") or 0)
        met_at = _met_at(ticket, clock)
        if ticket.sla_paused_at is not None and met_at is None:
            set_field(ticket, clock, "due", None)
            continue
        start = _start(ticket, clock)
        due = bt.add(cal, start, target + paused)
        set_field(ticket, clock, "due", due)
        if met_at is not None:
            if ticket.sla_paused_at is not None:  # met while paused: judged at the pause
                met = left_at(cal, ticket, clock, target, met_at) >= timedelta(0)
            else:
                met = met_at <= due
            set_field(ticket, clock, "met", met)
            continue
        set_field(ticket, clock, "met", None)
        warn = _warn(cal, start, target, paused, policy.warn_percent)
        next_due.append(due)
        next_warn.append(warn)
        alerted = get_field(ticket, clock, "alerted")
        if alerted == NONE:
            next_alert.append(warn)
        elif alerted == WARNED:
            next_alert.append(due)
    ticket.sla_next_due = min(next_due, default=None)
    ticket.sla_next_warn = min(next_warn, default=None)
    ticket.sla_next_alert = min(next_alert, default=None)


def start_clocks(ticket: Ticket, policy: Policy | None) -> None:
    ticket.sla_policy_id = policy.id if policy else None
    ticket.sla_started_at = ticket.created_at
    ticket.sla_paused_at = None
    for clock in CLOCKS:
        set_field(ticket, clock, "paused_s", 0)
        set_field(ticket, clock, "alerted", NONE)
    if policy is not None and policy.pause_when_waiting and ticket.status == Status.WAITING:
        ticket.sla_paused_at = now_utc()
    recompute(ticket, policy)


def pause(ticket: Ticket, now: datetime) -> None:
    if ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
        recompute(ticket)


def resume(ticket: Ticket, now: datetime, policy: Policy | None = None) -> None:
    policy = policy or policy_of(ticket)
    if ticket.sla_paused_at is None:
        return
    if policy is not None:
        cal = calendar_of(policy)
        spent = bt.between(cal, ticket.sla_paused_at, now)
        for clock in CLOCKS:
            if get_field(ticket, clock, "met") is None:
                set_field(
                    ticket,
                    clock,
                    "paused_s",
                    (get_field(ticket, clock, "paused_s") or 0) + int(spent.total_seconds()),
                )
    ticket.sla_paused_at = None
    recompute(ticket, policy)


def restart_resolution(ticket: Ticket, now: datetime) -> None:
    """Reopening: the resolution clock starts again from now with its full target."""
    ticket.sla_started_at = now
    ticket.sla_resolution_paused_s = 0
    ticket.sla_resolution_met = None
    ticket.sla_resolution_alerted = NONE
    recompute(ticket)


def timeline(ticket: Ticket, actor: User, kind: EventKind, new: str) -> None:
    """A timeline row written by the clocks (no signal: nothing else reacts to it)."""
    db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=actor.id, kind=kind, new_value=new))


def on_ticket_event(ticket: Ticket, *, event: TicketEvent, actor: User, **_kw: Any) -> None:
    """Receiver of `signals.ticket_event`: move the clocks for this change."""
    kind = event.kind
    if kind == EventKind.CREATED:
        start_clocks(ticket, matching_policy(ticket))
        return
    if ticket.sla_policy_id is None and kind not in (EventKind.CATEGORY, EventKind.PRIORITY):
        return
    now = now_utc()
    if kind == EventKind.STATUS:
        old, new = Status(event.old_value), Status(event.new_value)
        policy = policy_of(ticket)
        if old == Status.WAITING and ticket.sla_paused_at is not None:
            resume(ticket, now, policy)
        if old in STOPPED and new not in STOPPED:
            restart_resolution(ticket, now)
        elif new == Status.WAITING and policy is not None and policy.pause_when_waiting:
            pause(ticket, now)
        else:
            recompute(ticket, policy)
    elif kind == EventKind.COMMENT:
        if ticket.sla_response_met is None and ticket.first_response_at is not None:
            recompute(ticket)
    elif kind in (EventKind.PRIORITY, EventKind.CATEGORY):
        old_policy = ticket.sla_policy_id
        policy = matching_policy(ticket) if kind == EventKind.CATEGORY else policy_of(ticket)
        if kind == EventKind.CATEGORY:
            ticket.sla_policy_id = policy.id if policy else None
        if old_policy is None and policy is None:
            return
        recompute(ticket, policy)
        timeline(ticket, actor, EventKind.SLA_RECOMPUTED, policy.name if policy else "")
