"""Per-app real-time state: presence store, this process's sockets, the checker loop.

The checker runs while this process holds sockets (or has offline transitions
pending). Every `REALTIME_CHECK_SECONDS` it proves the process alive to the
presence store and closes sockets whose session ended: user deactivated,
role or password changed (session_version), idle or absolute timeout, or a
logout of that session in any process (its LoginSession row is gone).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from helpdesk.extensions import db, socketio
from helpdesk.realtime import services
from helpdesk.realtime.presence import (
    OFFLINE,
    LocalSocket,
    MemoryPresence,
    PresenceStore,
    RedisPresence,
)
from helpdesk.transaction import unit_of_work

log = logging.getLogger(__name__)

# What features add to the transport (filled by their init_app, once per process):
# checks the loop runs over this process's sockets each round (e.g. leave the room
# of a ticket the person may no longer see), and what to do when a socket that
# viewed a room goes away (e.g. tell the ticket's staff who is still viewing).
ROOM_CHECKS: list[Callable[[RealtimeState, list[SocketInfo]], None]] = []
VIEW_LEFT: list[Callable[[str], None]] = []


def register_room_check(check: Callable[[RealtimeState, list[SocketInfo]], None]) -> None:
    if check not in ROOM_CHECKS:
        ROOM_CHECKS.append(check)


def register_view_left(hook: Callable[[str], None]) -> None:
    if hook not in VIEW_LEFT:
        VIEW_LEFT.append(hook)


def on_sessions_revoked(user: Any, **kwargs: Any) -> None:
    """Logout ends that session's sockets; deactivation, role change or password reset
    end all of the person's (the session_version moved).

    Sent after commit, so the database already says which sessions ended: this
    process closes its sockets now; every other process sees the same on its next
    check (REALTIME_CHECK_SECONDS).
    """
    try:
        get_state().check_sessions_now(user.id)
    except Exception:
        log.exception("could not close the sockets of user %s", user.id)


@dataclass
class SocketInfo:
    sid: str
    user_id: int
    is_staff: bool
    session_key: str
    session_version: int
    login_at: float
    last_activity: float
    away: bool = False
    views: set[str] = field(default_factory=set)

    def as_local(self) -> LocalSocket:
        return LocalSocket(self.sid, self.user_id, self.away, frozenset(self.views))


class RealtimeState:
    def __init__(self, app: Flask) -> None:
        cfg = app.config
        self.app = app
        redis_url = cfg.get("REDIS_URL")
        self.presence: PresenceStore
        if redis_url:
            self.presence = RedisPresence(
                redis_url,
                f"{cfg.get('REDIS_PREFIX', 'helpdesk')}:presence",
                lambda: self.grace_seconds,
                self.check_seconds,
            )
        else:
            self.presence = MemoryPresence(lambda: self.grace_seconds)
        self.sockets: dict[str, SocketInfo] = {}
        self.pending_offline: dict[int, tuple[float, bool]] = {}  # user → (deadline, is_staff)
        self._lock = threading.Lock()
        self._loop_running = False
        # The Socket.IO server this app was given (create_app just called init_app).
        self.server = socketio.server

    # Read at each use: tests and operators may change them on a running app.
    @property
    def check_seconds(self) -> float:
        return float(self.app.config.get("REALTIME_CHECK_SECONDS", 3))

    @property
    def grace_seconds(self) -> float:
        return float(self.app.config.get("PRESENCE_GRACE_SECONDS", 5))

    @classmethod
    def install(cls, app: Flask) -> RealtimeState:
        state = cls(app)
        app.extensions["helpdesk_realtime"] = state
        return state

    # ------------------------------------------------------------ registry

    def add(self, info: SocketInfo) -> None:
        with self._lock:
            self.sockets[info.sid] = info
            self.pending_offline.pop(info.user_id, None)
        self.ensure_loop()

    def pop(self, sid: str) -> SocketInfo | None:
        with self._lock:
            return self.sockets.pop(sid, None)

    def get(self, sid: str) -> SocketInfo | None:
        return self.sockets.get(sid)

    def local_sids(
        self, *, user_id: int | None = None, session_key: str | None = None
    ) -> list[str]:
        with self._lock:
            return [
                s.sid
                for s in self.sockets.values()
                if (user_id is None or s.user_id == user_id)
                and (session_key is None or s.session_key == session_key)
            ]

    def schedule_offline(self, user_id: int, is_staff: bool) -> None:
        with self._lock:
            self.pending_offline[user_id] = (time.monotonic() + self.grace_seconds, is_staff)
        self.ensure_loop()

    # ------------------------------------------------------------ checker loop

    def ensure_loop(self) -> None:
        with self._lock:
            if self._loop_running:
                return
            self._loop_running = True
        socketio.start_background_task(self._loop)

    def _loop(self) -> None:
        try:
            while True:
                socketio.sleep(self.check_seconds)
                with self._lock:
                    # Stop when idle, or when a newer app replaced this one's server
                    # (several apps in one process: tests).
                    if (not self.sockets and not self.pending_offline) or (
                        socketio.server is not self.server
                    ):
                        self._loop_running = False
                        return
                with self.app.app_context():
                    try:
                        self.check_once()
                    except Exception:  # one bad round must not end the loop
                        log.exception("real-time checker round failed")
                        db.session.rollback()
                    finally:
                        db.session.remove()
        except BaseException:
            with self._lock:
                self._loop_running = False
            raise

    def check_once(self) -> None:
        with self._lock:
            local = list(self.sockets.values())
        try:
            self.presence.heartbeat([s.as_local() for s in local])
        except Exception:
            log.warning("presence heartbeat failed (Redis down?)", exc_info=True)
        self._close_ended_sessions(local)
        for check in ROOM_CHECKS:
            check(self, local)
        self._flush_offline()

    def _close_ended_sessions(self, local: list[SocketInfo]) -> None:
        """One query for the people, one for their login sessions; no per-socket work."""
        from helpdesk.auth.models import LoginSession
        from helpdesk.users.models import User

        if not local:
            return
        cfg = self.app.config
        idle = cfg["SESSION_TIMEOUT_MINUTES"] * 60
        absolute = cfg["SESSION_ABSOLUTE_HOURS"] * 3600
        users: dict[int, tuple[bool, int]] = {}
        alive: set[str] = set()
        ids = sorted({s.user_id for s in local})
        keys = sorted({s.session_key for s in local})
        for start in range(0, len(ids), 500):
            rows = db.session.execute(
                select(User.id, User.active, User.session_version).where(
                    User.id.in_(ids[start : start + 500])
                )
            )
            users.update({uid: (bool(active), int(ver)) for uid, active, ver in rows})
        for start in range(0, len(keys), 500):
            alive.update(
                db.session.scalars(
                    select(LoginSession.id).where(LoginSession.id.in_(keys[start : start + 500]))
                )
            )
        db.session.rollback()
        now = time.time()
        for s in local:
            active, version = users.get(s.user_id, (False, -1))
            if not active or version != s.session_version:
                self.close(s.sid, "revoked")
            elif s.session_key not in alive:
                self.close(s.sid, "logout")  # logged out in this or another process
            elif now - s.last_activity > idle or now - s.login_at > absolute:
                self.close(s.sid, "expired")

    def check_sessions_now(self, user_id: int) -> None:
        """Right after a logout/revocation in this process: close its sockets at once."""
        with self._lock:
            local = [s for s in self.sockets.values() if s.user_id == user_id]
        self._close_ended_sessions(local)

    def close(self, sid: str, reason: str) -> None:
        """Tell the tab why (so it does not reconnect blindly), then drop the socket."""
        try:
            socketio.emit("session:ended", {"reason": reason}, to=sid)
            socketio.server.disconnect(sid, namespace="/")
        except Exception:
            log.warning("could not close socket %s", sid, exc_info=True)

    def _flush_offline(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [(uid, staff) for uid, (t, staff) in self.pending_offline.items() if t <= now]
            for uid, _staff in due:
                self.pending_offline.pop(uid, None)
        for uid, is_staff in due:
            try:
                if self.presence.status(uid) != OFFLINE:
                    continue  # another tab or process still holds the person
            except Exception:
                log.warning("presence lookup failed", exc_info=True)
                continue
            with unit_of_work():  # the checker loop is a boundary of its own
                services.went_offline(uid, is_staff)


def get_state(app: Any = None) -> RealtimeState:
    return (app or current_app).extensions["helpdesk_realtime"]
