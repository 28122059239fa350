"""Jinja globals and filters: labels (from the label tables), badges, dates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_datetime, format_decimal, get_locale

from helpdesk.auth.session import may_hold_socket
from helpdesk.chat import permissions as chat_perm
from helpdesk.i18n import js_strings
from helpdesk.tickets import permissions as ticket_perm
from helpdesk.tickets.labels import (
    EVENT_LABELS,
    SLA_CLOCK_LABELS,
    SLA_EVENTS,
    priority_label,
    status_label,
)
from helpdesk.tickets.models import Priority, Status
from helpdesk.users.labels import role_label
from helpdesk.users.models import Role

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


def dt(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "main.dashboard", **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    app.jinja_env.filters["dt"] = dt
    app.jinja_env.filters["num"] = format_decimal  # 1.234 in Spanish, 1,234 in English
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["priority_label"] = priority_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.globals.update(
        Status=Status,
        Priority=Priority,
        Role=Role,
        STATUS_CLASSES=STATUS_CLASSES,
        STATUS_ICONS=STATUS_ICONS,
        PRIORITY_CLASSES=PRIORITY_CLASSES,
        PRIORITY_ICONS=PRIORITY_ICONS,
        EVENT_LABELS=EVENT_LABELS,
        SLA_EVENTS=SLA_EVENTS,
        SLA_CLOCK_LABELS=SLA_CLOCK_LABELS,
        ticket_perm=ticket_perm,
        chat_perm=chat_perm,
        url_with=url_with,
        get_locale=get_locale,
        js_strings=js_strings,
        may_hold_socket=may_hold_socket,
    )
