"""Private 1:1 chat between a user and support (or between staff)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Chat's socket handlers and its navbar counter (after `realtime.init_app`)."""
    from helpdesk.chat import events
    from helpdesk.chat.services import unread_total
    from helpdesk.realtime.handlers import bind
    from helpdesk.realtime.templating import register_unread_counter

    bind(events)
    register_unread_counter("chat", unread_total)
