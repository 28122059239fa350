"""Persisted notifications: bell counter, toasts and the /notifications page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Socket handlers, the ticket-change receiver and the bell counter."""
    from helpdesk.notifications import events
    from helpdesk.notifications.services import on_ticket_event, unread_count
    from helpdesk.realtime.handlers import bind
    from helpdesk.realtime.templating import register_unread_counter
    from helpdesk.signals import ticket_event

    bind(events)
    # blinker keeps one connection per receiver, so repeated app creation is harmless.
    ticket_event.connect(on_ticket_event, weak=False)
    register_unread_counter("notifications", unread_count)
