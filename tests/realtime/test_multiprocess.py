"""Two server processes + Redis act as one: chat, presence, notifications, Redis outage."""

from __future__ import annotations

import re
import time

import pytest

from helpdesk.extensions import db
from tests.realtime.cluster import Cluster, get
from tests.realtime.helpers import LiveClient, csrf_of, http_login

pytestmark = pytest.mark.multiprocess


@pytest.fixture
def cluster(database, tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD, make_app

    app = make_app(database, tmp_path)
    with app.app_context():
        from helpdesk.tickets.services import create_category
        from helpdesk.users import services as users

        db.create_all()
        ids = {}
        for name, role in (("boss", "admin"), ("tech", "technician"), ("alice", "user")):
            ids[name] = users.create_user(
                None, username=name, password=PASSWORD, role=role, full_name=name.title()
            ).id
        ids["category"] = create_category(None, "Hardware").id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    c = Cluster(database.url, tmp_path)
    clients: list[LiveClient] = []
    c.ids = ids  # type: ignore[attr-defined]
    c.clients = clients  # type: ignore[attr-defined]
    yield c
    for client in clients:
        client.close()
    c.close()
    # The servers may log Redis being away (the outage test); nothing else may fail.
    problems = [
        line
        for log in c.logs
        for line in log.read_text(errors="replace").splitlines()
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)
        and not line.startswith(("redis.exceptions.", "ConnectionRefusedError", "OSError"))
        or "Unhandled error" in line
        or re.search(r"socket handler \S+ failed|checker round failed", line)
    ]
    assert not problems, c.output()


def connect(cluster, url, session):  # type: ignore[no-untyped-def]
    client = LiveClient(url, session)
    cluster.clients.append(client)
    return client


def test_chat_presence_and_notifications_across_two_processes(cluster):
    ids = cluster.ids
    tech_http = http_login(cluster.b, "tech")
    tech = connect(cluster, cluster.b, tech_http)  # on process B
    alice_http = http_login(cluster.a, "alice")
    alice = connect(cluster, cluster.a, alice_http)  # on process A
    # Presence: A announces alice; B's technician hears it and B's store agrees.
    assert tech.wait_for("presence", lambda p: p["user_id"] == ids["alice"])["status"] == "online"
    assert tech.call("presence:query", {"user_ids": [ids["alice"]]})["statuses"] == {
        str(ids["alice"]): "online"
    }
    assert alice.call("presence:query", {"user_ids": [ids["tech"]]})["statuses"] == {
        str(ids["tech"]): "online"
    }
    # Chat: started over HTTP on A, sent on A, delivered on B (and back).
    resp = alice_http.post(
        cluster.a + "/chat/start",
        data={"user_id": ids["tech"], "csrf_token": csrf_of(alice_http, cluster.a)},
        allow_redirects=False,
    )
    conv_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    ack = alice.call("chat:send", {"conversation_id": conv_id, "body": "hello from A"})
    assert ack["ok"] is True, ack
    got = tech.wait_for("chat:message", lambda m: m["id"] == ack["message"]["id"])
    assert got["html"] == "hello from A" and got["unread_total"] == 1
    assert tech.wait_for("notification")["kind"] == "chat_message"
    # B has the chat open now: A sees it (presence store in Redis) and stores no notification.
    assert tech.call("chat:open", {"conversation_id": conv_id})["ok"] is True
    assert alice.wait_for("chat:read", lambda d: d["reader_id"] == ids["tech"])["upto"] == got["id"]
    reply = tech.call("chat:send", {"conversation_id": conv_id, "body": "hello from B"})
    alice.wait_for("chat:message", lambda m: m["id"] == reply["message"]["id"])
    ack = alice.call("chat:send", {"conversation_id": conv_id, "body": "still there?"})
    tech.wait_for("chat:message", lambda m: m["id"] == ack["message"]["id"])
    # Opening the chat settled its notification; the later message made none.
    assert tech_http.get(cluster.b + "/notifications/count").json()["notifications"] == 0
    # A ticket assigned through process A notifies the technician's socket on B.
    boss_http = http_login(cluster.a, "boss")
    ticket = boss_http.post(
        cluster.a + "/tickets/new",
        data={
            "title": "Cluster ticket",
            "description": "d",
            "category_id": ids["category"],
            "priority": "low",
            "csrf_token": csrf_of(boss_http, cluster.a, "/tickets/new"),
        },
        allow_redirects=False,
    )
    ticket_id = int(ticket.headers["Location"].rsplit("/", 1)[1])
    boss_http.post(
        f"{cluster.a}/tickets/{ticket_id}/assign",
        data={"assignee_id": ids["tech"], "csrf_token": csrf_of(boss_http, cluster.a)},
    )
    assert tech.wait_for("notification", lambda n: n["kind"] == "ticket_assigned")["url"] == (
        f"/tickets/{ticket_id}"
    )
    # Alice leaves A: B's technician sees her go offline after the grace period.
    alice.close()
    offline = tech.wait_for("presence", lambda p: p["status"] == "offline")
    assert offline["user_id"] == ids["alice"]


def test_redis_outage_keeps_http_up_and_events_flow_again(cluster):
    ids = cluster.ids
    tech_http = http_login(cluster.b, "tech")
    tech = connect(cluster, cluster.b, tech_http)
    alice_http = http_login(cluster.a, "alice")
    alice = connect(cluster, cluster.a, alice_http)
    resp = alice_http.post(
        cluster.a + "/chat/start",
        data={"user_id": ids["tech"], "csrf_token": csrf_of(alice_http, cluster.a)},
        allow_redirects=False,
    )
    conv_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    first = alice.call("chat:send", {"conversation_id": conv_id, "body": "before"})
    tech.wait_for("chat:message", lambda m: m["id"] == first["message"]["id"])

    cluster.redis.stop()
    for url in (cluster.a, cluster.b):
        assert get(url + "/healthz").status_code == 200
    # Signed-in pages and a fresh sign-in still work on both processes.
    assert alice_http.get(cluster.a + "/chat").status_code == 200
    assert tech_http.get(cluster.b + "/tickets").status_code == 200
    assert http_login(cluster.b, "boss").get(cluster.b + "/").status_code == 200
    # Messages are still stored (only the cross-process delivery waits for Redis).
    during = alice.call("chat:send", {"conversation_id": conv_id, "body": "during"})
    assert during["ok"] is True

    cluster.redis.start()  # same port, empty
    # The Redis listener reconnects with a back-off; send until one crosses over.
    deadline = time.monotonic() + 60
    while True:
        ack = alice.call("chat:send", {"conversation_id": conv_id, "body": "after"})
        try:
            tech.wait_for("chat:message", lambda m, i=ack["message"]["id"]: m["id"] == i, 3)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    # Presence heals too: each process rewrites its sockets into the new Redis.
    deadline = time.monotonic() + 30
    while tech.call("presence:query", {"user_ids": [ids["alice"]]})["statuses"] != {
        str(ids["alice"]): "online"
    }:
        assert time.monotonic() < deadline, "presence did not come back"
        time.sleep(0.5)
