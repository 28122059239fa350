"""Tickets: the numbers, lists, changes and timeline, and their live pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Live ticket pages: socket handlers, the change receiver, the room hooks."""
    from helpdesk.realtime.handlers import bind
    from helpdesk.realtime.state import register_room_check, register_view_left
    from helpdesk.signals import ticket_event
    from helpdesk.tickets import events

    bind(events)
    # blinker keeps one connection per receiver, so repeated app creation is harmless.
    ticket_event.connect(events.on_ticket_event, weak=False)
    register_room_check(events.leave_lost_tickets)
    register_view_left(events.view_left)
