"""Who is connected, away, or looking at what — in one process or shared through Redis.

Each socket (sid) is recorded under its user with the id of the process that
holds it. A process refreshes a liveness key every heartbeat and rewrites its
own entries (so presence heals after a Redis restart); entries of a process
whose liveness key expired are ignored, so a crashed server cannot leave
people "online" forever. A user becomes offline only when no live socket is
left and the grace period (a page reload, a flaky network) has passed.
"""

from __future__ import annotations

import logging
import os
import socket as _socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"


@dataclass
class LocalSocket:
    sid: str
    user_id: int
    away: bool = False
    views: frozenset[str] = frozenset()


def new_process_id() -> str:
    return f"{_socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PresenceStore:
    """Interface shared by the in-process and the Redis store."""

    grace: Callable[[], float]  # read at each use, so the setting can change at run time

    @property
    def grace_seconds(self) -> float:
        return float(self.grace())

    def add(self, sid: str, user_id: int) -> None: ...
    def remove(self, sid: str, user_id: int) -> None: ...
    def set_away(self, sid: str, user_id: int, away: bool) -> None: ...
    def view(self, sid: str, user_id: int, target: str) -> None: ...
    def unview(self, sid: str, target: str) -> None: ...
    def statuses(self, user_ids: Iterable[int]) -> dict[int, str]:
        raise NotImplementedError

    def viewers(self, target: str) -> set[int]:
        raise NotImplementedError

    def heartbeat(self, local: Iterable[LocalSocket]) -> None: ...

    def status(self, user_id: int) -> str:
        return self.statuses([user_id]).get(user_id, OFFLINE)

    @staticmethod
    def _fold(states: Iterable[bool]) -> str:
        """Away flags of one person's sockets → online if any tab is active."""
        seen = False
        for away in states:
            if not away:
                return ONLINE
            seen = True
        return AWAY if seen else OFFLINE


class MemoryPresence(PresenceStore):
    """One process on its own (no REDIS_URL)."""

    def __init__(self, grace: Callable[[], float]) -> None:
        self.grace = grace
        self._lock = threading.Lock()
        self._users: dict[int, dict[str, bool]] = {}
        self._views: dict[str, dict[str, int]] = {}
        self._grace: dict[int, float] = {}

    def add(self, sid: str, user_id: int) -> None:
        with self._lock:
            self._users.setdefault(user_id, {})[sid] = False
            self._grace.pop(user_id, None)

    def remove(self, sid: str, user_id: int) -> None:
        with self._lock:
            socks = self._users.get(user_id, {})
            socks.pop(sid, None)
            if not socks:
                self._users.pop(user_id, None)
                self._grace[user_id] = time.monotonic() + self.grace_seconds
            for viewers in self._views.values():
                viewers.pop(sid, None)

    def set_away(self, sid: str, user_id: int, away: bool) -> None:
        with self._lock:
            socks = self._users.get(user_id)
            if socks is not None and sid in socks:
                socks[sid] = away

    def view(self, sid: str, user_id: int, target: str) -> None:
        with self._lock:
            self._views.setdefault(target, {})[sid] = user_id

    def unview(self, sid: str, target: str) -> None:
        with self._lock:
            viewers = self._views.get(target)
            if viewers is not None:
                viewers.pop(sid, None)
                if not viewers:
                    self._views.pop(target, None)

    def statuses(self, user_ids: Iterable[int]) -> dict[int, str]:
        now = time.monotonic()
        result = {}
        with self._lock:
            for uid in user_ids:
                socks = self._users.get(uid)
                if socks:
                    result[uid] = self._fold(socks.values())
                elif self._grace.get(uid, 0) > now:
                    result[uid] = ONLINE  # just reloading a page
                else:
                    result[uid] = OFFLINE
        return result

    def viewers(self, target: str) -> set[int]:
        with self._lock:
            return set(self._views.get(target, {}).values())

    def heartbeat(self, local: Iterable[LocalSocket]) -> None:
        return None  # nothing to prove: this process is the only one


class RedisPresence(PresenceStore):
    """Shared by every server process through Redis (keys under `prefix`)."""

    def __init__(
        self, url: str, prefix: str, grace: Callable[[], float], heartbeat_seconds: float
    ) -> None:
        import redis

        self.grace = grace
        self.prefix = prefix
        self.proc = new_process_id()
        self.proc_ttl = max(int(heartbeat_seconds * 3) + 2, 5)
        self.r = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
        )

    def _k(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def _mark_alive(self, pipe: Any) -> None:
        pipe.set(self._k("proc", self.proc), "1", ex=self.proc_ttl)

    def add(self, sid: str, user_id: int) -> None:
        pipe = self.r.pipeline()
        self._mark_alive(pipe)
        pipe.hset(self._k("u", user_id), sid, f"{self.proc}|0")
        pipe.delete(self._k("grace", user_id))
        pipe.execute()

    def remove(self, sid: str, user_id: int) -> None:
        pipe = self.r.pipeline()
        pipe.hdel(self._k("u", user_id), sid)
        pipe.set(self._k("grace", user_id), "1", px=max(int(self.grace_seconds * 1000), 1))
        pipe.execute()

    def set_away(self, sid: str, user_id: int, away: bool) -> None:
        key = self._k("u", user_id)
        if self.r.hexists(key, sid):
            self.r.hset(key, sid, f"{self.proc}|{int(away)}")

    def view(self, sid: str, user_id: int, target: str) -> None:
        self.r.hset(self._k("v", target), sid, f"{self.proc}|{user_id}")

    def unview(self, sid: str, target: str) -> None:
        self.r.hdel(self._k("v", target), sid)

    def _live(self, procs: set[str]) -> set[str]:
        if not procs:
            return set()
        ordered = sorted(procs)
        flags = self.r.mget([self._k("proc", p) for p in ordered])
        return {p for p, flag in zip(ordered, flags, strict=True) if flag}

    def statuses(self, user_ids: Iterable[int]) -> dict[int, str]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        pipe = self.r.pipeline()
        for uid in ids:
            pipe.hgetall(self._k("u", uid))
            pipe.exists(self._k("grace", uid))
        raw = pipe.execute()
        entries = {uid: raw[2 * i] for i, uid in enumerate(ids)}
        grace = {uid: bool(raw[2 * i + 1]) for i, uid in enumerate(ids)}
        live = self._live({v.split("|", 1)[0] for e in entries.values() for v in e.values()})
        result = {}
        for uid in ids:
            states = [v.split("|", 1)[1] == "1" for v in entries[uid].values()
                      if v.split("|", 1)[0] in live]  # fmt: skip
            status = self._fold(states)
            if status == OFFLINE and grace[uid]:
                status = ONLINE
            result[uid] = status
        return result

    def viewers(self, target: str) -> set[int]:
        # redis-py types every command as "a value or an awaitable" (one client class
        # for sync and async); this client is the synchronous one.
        entries: dict[str, str] = self.r.hgetall(self._k("v", target))  # type: ignore[assignment]
        live = self._live({v.split("|", 1)[0] for v in entries.values()})
        return {int(v.split("|", 1)[1]) for v in entries.values() if v.split("|", 1)[0] in live}

    def heartbeat(self, local: Iterable[LocalSocket]) -> None:
        """Prove this process alive and rewrite its entries (Redis may have restarted empty)."""
        pipe = self.r.pipeline()
        self._mark_alive(pipe)
        for s in local:
            pipe.hset(self._k("u", s.user_id), s.sid, f"{self.proc}|{int(s.away)}")
            for target in s.views:
                pipe.hset(self._k("v", target), s.sid, f"{self.proc}|{s.user_id}")
        pipe.execute()
