"""The presence stores: several tabs, away, grace period, and (Redis) a crashed process."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from helpdesk.realtime.presence import AWAY, OFFLINE, ONLINE, MemoryPresence, RedisPresence

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_prefix():  # type: ignore[no-untyped-def]
    prefix = f"hdtest-{uuid.uuid4().hex[:8]}"
    yield prefix
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(f"{prefix}:*"))
    if keys:
        r.delete(*keys)


def stores(redis_prefix):  # type: ignore[no-untyped-def]
    return [
        MemoryPresence(lambda: 0.2),
        RedisPresence(REDIS_URL, redis_prefix, lambda: 0.2, heartbeat_seconds=1),
    ]


@pytest.mark.parametrize("kind", [0, 1], ids=["memory", "redis"])
def test_tabs_away_and_grace(kind, redis_prefix):
    store = stores(redis_prefix)[kind]
    store.add("s1", 7)
    store.add("s2", 7)
    assert store.status(7) == ONLINE
    store.set_away("s1", 7, True)
    assert store.status(7) == ONLINE  # the other tab is active
    store.set_away("s2", 7, True)
    assert store.status(7) == AWAY
    store.remove("s1", 7)
    assert store.status(7) == AWAY
    store.remove("s2", 7)
    assert store.status(7) == ONLINE  # a reload within the grace period is no "offline"
    time.sleep(0.3)
    assert store.statuses([7, 8]) == {7: OFFLINE, 8: OFFLINE}
    store.view("s3", 9, "ticket:1")
    store.view("s4", 10, "ticket:1")
    store.unview("s3", "ticket:1")
    assert store.viewers("ticket:1") == {10}


def test_redis_presence_is_shared_and_ignores_a_dead_process(redis_prefix):
    a = RedisPresence(REDIS_URL, redis_prefix, lambda: 0.2, heartbeat_seconds=1)
    b = RedisPresence(REDIS_URL, redis_prefix, lambda: 0.2, heartbeat_seconds=1)
    a.add("sa", 5)
    a.view("sa", 5, "conversation:3")
    assert b.status(5) == ONLINE and b.viewers("conversation:3") == {5}
    b.add("sb", 6)
    assert a.status(6) == ONLINE
    # Process A dies without cleaning up: once its liveness key is gone, its sockets
    # no longer count anywhere.
    redis.Redis.from_url(REDIS_URL).delete(f"{redis_prefix}:proc:{a.proc}")
    assert b.status(5) == OFFLINE and b.viewers("conversation:3") == set()
    assert a.status(6) == ONLINE


def test_redis_presence_heals_after_redis_lost_everything(redis_prefix):
    from helpdesk.realtime.presence import LocalSocket

    a = RedisPresence(REDIS_URL, redis_prefix, lambda: 0.2, heartbeat_seconds=1)
    a.add("sa", 5)
    r = redis.Redis.from_url(REDIS_URL)
    r.delete(*r.scan_iter(f"{redis_prefix}:*"))  # what a restarted, empty Redis holds
    assert a.status(5) == OFFLINE
    a.heartbeat([LocalSocket("sa", 5, away=True, views=frozenset({"ticket:2"}))])
    assert a.status(5) == AWAY and a.viewers("ticket:2") == {5}
