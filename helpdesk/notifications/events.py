"""Notifications over Socket.IO: mark read from a toast or the bell menu."""

from __future__ import annotations

from typing import Any

from helpdesk.notifications import services
from helpdesk.realtime.handlers import MAX_ID, socket_event
from helpdesk.realtime.state import SocketInfo
from helpdesk.users.models import User


@socket_event("notifications:read", {"id": (int, MAX_ID)})
def on_read(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    services.mark_read(user, data["id"])
    return {}


@socket_event("notifications:count")
def on_count(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    return {"unread": services.unread_count(user)}
