"""Connect / disconnect and presence: the transport's own socket events.

Features register theirs in their own events.py (chat, notifications, tickets).
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from helpdesk.auth.session import may_hold_socket  # noqa: E402
from helpdesk.extensions import socketio
from helpdesk.realtime import permissions as perm
from helpdesk.realtime import rooms
from helpdesk.realtime.handlers import best_effort, fresh_user, on, socket_event, socket_id
from helpdesk.realtime.presence import OFFLINE
from helpdesk.realtime.rooms import presence_rooms
from helpdesk.realtime.services import presence_payload
from helpdesk.realtime.state import VIEW_LEFT, SocketInfo, get_state
from helpdesk.realtime.templating import visible_statuses
from helpdesk.users.models import User

log = logging.getLogger(__name__)


def session_key() -> str:
    """The server-side login session this socket belongs to (auth.models.LoginSession)."""
    return str(session.get("sid") or "")


@on("connect")
def on_connect(auth: Any = None) -> None:
    app = current_app
    fresh_user()
    if not perm.origin_allowed(
        request.headers.get("Origin"),
        request.environ,
        app.config.get("SOCKETIO_ALLOWED_ORIGINS") or (),
    ):
        raise ConnectionRefusedError("origin not allowed")
    if not may_hold_socket(current_user):  # as for HTTP: no forced step skipped
        raise ConnectionRefusedError("unauthorized")
    now = time.time()
    seen = float(session.get("seen_at", 0))
    login_at = float(session.get("login_at", 0))
    if (
        now - seen > app.config["SESSION_TIMEOUT_MINUTES"] * 60
        or now - login_at > app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    ):
        raise ConnectionRefusedError("session expired")
    state = get_state()
    key = session_key()
    user = current_user._get_current_object()
    sid = socket_id()
    info = SocketInfo(
        sid=sid,
        user_id=user.id,
        is_staff=user.is_staff,
        session_key=key,
        session_version=user.session_version,
        login_at=login_at,
        last_activity=seen,
    )
    join_room(rooms.user(user.id))
    join_room(rooms.STAFF if user.is_staff else rooms.USERS)
    join_room(rooms.session(key))
    before = best_effort(lambda: state.presence.status(user.id), OFFLINE)
    best_effort(lambda: state.presence.add(sid, user.id))
    state.add(info)
    if before != "online":
        socketio.emit(
            "presence", presence_payload(user.id, "online"), to=presence_rooms(user.is_staff)
        )


@on("disconnect")
def on_disconnect(*_args: Any) -> None:
    state = get_state()
    info = state.pop(socket_id())
    if info is None:
        return
    for target in list(info.views):
        best_effort(functools.partial(state.presence.unview, info.sid, target))
        for hook in VIEW_LEFT:
            hook(target)
    before = best_effort(lambda: state.presence.status(info.user_id), OFFLINE)
    best_effort(lambda: state.presence.remove(info.sid, info.user_id))
    if not state.local_sids(user_id=info.user_id):
        state.schedule_offline(info.user_id, info.is_staff)
    after = best_effort(lambda: state.presence.status(info.user_id), OFFLINE)
    if after != before and after != OFFLINE:
        socketio.emit(
            "presence", presence_payload(info.user_id, after), to=presence_rooms(info.is_staff)
        )


@socket_event("presence:away", {"away": (bool, 1)})
def on_away(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    state = get_state()
    before = best_effort(lambda: state.presence.status(user.id), OFFLINE)
    sock.away = data["away"]
    best_effort(lambda: state.presence.set_away(sock.sid, user.id, data["away"]))
    after = best_effort(lambda: state.presence.status(user.id), OFFLINE)
    if after != before:
        socketio.emit(
            "presence", presence_payload(user.id, after), to=presence_rooms(user.is_staff)
        )
    return {"status": after}


@socket_event("presence:query", {"user_ids": (list, 200)})
def on_presence_query(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    return {"statuses": visible_statuses(user, data["user_ids"])}
