"""Chat over Socket.IO: open/close a conversation, send, typing, read receipts."""

from __future__ import annotations

from typing import Any

from flask_socketio import join_room, leave_room

from helpdesk.chat import services
from helpdesk.extensions import socketio
from helpdesk.realtime import rooms
from helpdesk.realtime.handlers import MAX_ID, best_effort, socket_event
from helpdesk.realtime.ratelimit import get_limiter
from helpdesk.realtime.state import SocketInfo, get_state
from helpdesk.users.models import User

# Hard cap on what a handler even looks at; the service gives the friendly limit.
BODY_CAP = 20000
CONV = {"conversation_id": (int, MAX_ID)}


def _recipient_has_chat_open(conversation_id: int, recipient_id: int) -> bool:
    try:
        viewers = get_state().presence.viewers(rooms.conversation(conversation_id))
    except Exception:
        return False  # unknown: notify rather than lose the message
    return recipient_id in viewers


@socket_event("chat:open", CONV, activity=True)
def on_open(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    conv = services.get_conversation(user, data["conversation_id"])
    target = rooms.conversation(conv.id)
    join_room(target)
    sock.views.add(target)
    best_effort(lambda: get_state().presence.view(sock.sid, user.id, target))
    upto = services.mark_read(user, conv)
    return {"read_upto": upto, "seen_upto": services.seen_upto(conv, user)}


@socket_event("chat:close", CONV)
def on_close(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    target = rooms.conversation(data["conversation_id"])
    leave_room(target)
    sock.views.discard(target)
    best_effort(lambda: get_state().presence.unview(sock.sid, target))
    return {}


@socket_event("chat:send", {**CONV, "body": (str, BODY_CAP)}, activity=True)
def on_send(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    conv = services.get_conversation(user, data["conversation_id"])
    other = conv.other(user)
    msg = services.send_message(
        user,
        conv,
        data["body"],
        notify=not _recipient_has_chat_open(conv.id, other.id),
    )
    return {"message": services.message_payload(msg, user)}


@socket_event("chat:typing", CONV)
def on_typing(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    conv = services.get_conversation(user, data["conversation_id"])
    if not get_limiter().hit("30 per 10 seconds", "typing", user.id):
        return {}
    socketio.emit(
        "chat:typing",
        {"conversation_id": conv.id, "user_id": user.id, "name": user.display_name},
        to=rooms.conversation(conv.id),
        skip_sid=sock.sid,
    )
    return {}


@socket_event("chat:read", {**CONV, "message_id": (int, MAX_ID)}, activity=True)
def on_read(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    conv = services.get_conversation(user, data["conversation_id"])
    return {"read_upto": services.mark_read(user, conv, data["message_id"])}
