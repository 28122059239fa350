"""The one table of what ticket statuses, priorities and timeline events are called.

Forms, templates, exports, report figures and notifications all read these, so a
label is written (and translated) once. Lazy strings: each is rendered in the
reader's language when it is shown.
"""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _l

from helpdesk.tickets.models import EventKind, Priority, Status

STATUS_LABELS: dict[Status, Any] = {
    Status.OPEN: _l("Open"),
    Status.IN_PROGRESS: _l("In progress"),
    Status.WAITING: _l("Waiting"),
    Status.RESOLVED: _l("Resolved"),
    Status.CLOSED: _l("Closed"),
}
PRIORITY_LABELS: dict[Priority, Any] = {
    Priority.LOW: _l("Low"),
    Priority.MEDIUM: _l("Medium"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}
EVENT_LABELS: dict[EventKind, Any] = {
    EventKind.CREATED: _l("created the ticket"),
    EventKind.ASSIGNED: _l("changed the assignee"),
    EventKind.STATUS: _l("changed the status"),
    EventKind.PRIORITY: _l("changed the priority"),
    EventKind.CATEGORY: _l("changed the category"),
    EventKind.COMMENT: _l("commented"),
    EventKind.NOTE: _l("added an internal note"),
    EventKind.ATTACHMENT: _l("attached a file"),
    EventKind.SLA_WARNING: _l("Service level at risk"),
    EventKind.SLA_BREACHED: _l("Service level breached"),
    EventKind.SLA_RECOMPUTED: _l("Service-level targets recomputed"),
}
# Written by the service-level clocks, not by a person: shown without a name.
SLA_EVENTS = frozenset({EventKind.SLA_WARNING, EventKind.SLA_BREACHED, EventKind.SLA_RECOMPUTED})
SLA_CLOCK_LABELS: dict[str, Any] = {
    "first_response": _l("first response"),
    "resolution": _l("resolution"),
}

# (value, label) pairs for select fields, in the enum's order.
STATUS_CHOICES = [(s.value, label) for s, label in STATUS_LABELS.items()]
PRIORITY_CHOICES = [(p.value, label) for p, label in PRIORITY_LABELS.items()]


def enum_label(table: dict[Any, Any], value: Any) -> str:
    """The label of `value` (a member or its stored string); the value itself if unknown."""
    enum_cls: type[enum.Enum] = type(next(iter(table)))
    try:
        return str(table[enum_cls(value)])
    except ValueError:
        return str(value)


def status_label(value: Any) -> str:
    return enum_label(STATUS_LABELS, value)


def priority_label(value: Any) -> str:
    return enum_label(PRIORITY_LABELS, value)
