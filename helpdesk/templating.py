"""Jinja globals and filters: translated labels, badges, dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from helpdesk.i18n import js_strings
from helpdesk.tickets import permissions as ticket_perm
from helpdesk.tickets.models import EventKind, Priority, Status
from helpdesk.users.models import Role

STATUS_LABELS = {
    Status.OPEN: _l("Open"),
    Status.IN_PROGRESS: _l("In progress"),
    Status.WAITING: _l("Waiting"),
    Status.RESOLVED: _l("Resolved"),
    Status.CLOSED: _l("Closed"),
}
STATUS_CLASSES = {
    Status.OPEN: "text-bg-primary",
    Status.IN_PROGRESS: "text-bg-info",
    Status.WAITING: "text-bg-warning",
    Status.RESOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-secondary",
}
STATUS_ICONS = {
    Status.OPEN: "bi-circle",
    Status.IN_PROGRESS: "bi-play-circle",
    Status.WAITING: "bi-hourglass-split",
    Status.RESOLVED: "bi-check-circle",
    Status.CLOSED: "bi-lock",
}
PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.MEDIUM: _l("Medium"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}
PRIORITY_CLASSES = {
    Priority.LOW: "text-bg-light border",
    Priority.MEDIUM: "text-bg-secondary",
    Priority.HIGH: "text-bg-warning",
    Priority.URGENT: "text-bg-danger",
}
PRIORITY_ICONS = {
    Priority.LOW: "bi-arrow-down",
    Priority.MEDIUM: "bi-dash",
    Priority.HIGH: "bi-arrow-up",
    Priority.URGENT: "bi-exclamation-triangle-fill",
}
ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.TECHNICIAN: _l("Technician"),
    Role.USER: _l("User"),
}
EVENT_LABELS = {
    EventKind.CREATED: _l("created the ticket"),
    EventKind.ASSIGNED: _l("changed the assignee"),
    EventKind.STATUS: _l("changed the status"),
    EventKind.PRIORITY: _l("changed the priority"),
    EventKind.CATEGORY: _l("changed the category"),
    EventKind.COMMENT: _l("commented"),
    EventKind.NOTE: _l("added an internal note"),
    EventKind.ATTACHMENT: _l("attached a file"),
}


def _enum_label(table: dict[Any, Any], value: Any) -> str:
    try:
        return str(table[type(next(iter(table)))(value)])
    except (ValueError, StopIteration):
        return str(value)


def dt(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "main.dashboard", **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    app.jinja_env.filters["dt"] = dt
    app.jinja_env.filters["num"] = format_decimal  # 1.234 in Spanish, 1,234 in English
    app.jinja_env.filters["status_label"] = lambda v: _enum_label(STATUS_LABELS, v)
    app.jinja_env.filters["priority_label"] = lambda v: _enum_label(PRIORITY_LABELS, v)
    app.jinja_env.filters["role_label"] = lambda v: _enum_label(ROLE_LABELS, v)
    app.jinja_env.globals.update(
        Status=Status,
        Priority=Priority,
        Role=Role,
        STATUS_CLASSES=STATUS_CLASSES,
        STATUS_ICONS=STATUS_ICONS,
        PRIORITY_CLASSES=PRIORITY_CLASSES,
        PRIORITY_ICONS=PRIORITY_ICONS,
        EVENT_LABELS=EVENT_LABELS,
        ticket_perm=ticket_perm,
        url_with=url_with,
        get_locale=get_locale,
        js_strings=js_strings,
    )
