"""What the ticket page says about each target, in the viewer's language and zone.

"in 2 h 15 min (working time)" counts business time on the policy's calendar;
"breached 3 hours ago" counts real time since the due.  Every state has its own
words and icon, so colour is never the only signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import format_timedelta
from flask_babel import gettext as _

from helpdesk.sla import business_time as bt
from helpdesk.sla import clocks
from helpdesk.sla.clocks import CLOCKS, RESPONSE, WARNED
from helpdesk.tickets.models import Ticket


@dataclass(frozen=True)
class TargetView:
    clock: str
    label: str
    state: str  # met, missed, paused, breached, at_risk, running
    icon: str
    css: str
    due: datetime | None
    text: str


def working_time(left: timedelta) -> str:
    minutes = max(0, int(left.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(h)s h %(m)s min", h=hours, m=minutes)
    if hours:
        return _("%(h)s h", h=hours)
    return _("%(m)s min", m=minutes)


def ticket_targets(ticket: Ticket, now: datetime | None = None) -> list[TargetView]:
    policy = clocks.policy_of(ticket)
    if policy is None:
        return []
    now = bt.as_utc(now or clocks.now_utc())
    cal = clocks.calendar_of(policy)
    out = []
    for clock in CLOCKS:
        target = clocks.target_of(policy, ticket, clock)
        if target is None:
            continue
        label = _("First response") if clock == RESPONSE else _("Resolution")
        due = clocks.get_field(ticket, clock, "due")
        due = bt.as_utc(due) if due is not None else None
        met = clocks.get_field(ticket, clock, "met")
        if met is True:
            out.append(TargetView(clock, label, "met", "bi-check-circle-fill", "text-success",
                                  due, _("Met")))  # fmt: skip
        elif met is False:
            out.append(TargetView(clock, label, "missed", "bi-x-circle-fill", "text-danger",
                                  due, _("Missed")))  # fmt: skip
        elif due is None:  # paused
            left = clocks.left_at(cal, ticket, clock, target, now)
            text = _("Paused, %(left)s left (working time)", left=working_time(left))
            if left < timedelta(0):
                text = _("Paused, already breached")
            out.append(TargetView(clock, label, "paused", "bi-pause-circle-fill",
                                  "text-body-secondary", None, text))  # fmt: skip
        elif due <= now:
            ago = format_timedelta(now - due, granularity="minute", threshold=1.1)
            out.append(TargetView(clock, label, "breached", "bi-exclamation-octagon-fill",
                                  "text-danger", due, _("Breached %(ago)s ago", ago=ago)))  # fmt: skip
        else:
            left_text = working_time(bt.between(cal, now, due))
            at_risk = clocks.get_field(ticket, clock, "alerted") >= WARNED or (
                clocks.warn_at(ticket, policy, clock) <= now
            )
            text = _("In %(left)s (working time)", left=left_text)
            if at_risk:
                out.append(TargetView(clock, label, "at_risk", "bi-alarm-fill", "text-warning-emphasis",
                                      due, _("At risk: %(text)s", text=text)))  # fmt: skip
            else:
                out.append(TargetView(clock, label, "running", "bi-clock", "text-body", due, text))
    return out
