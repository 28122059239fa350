"""Real server on 127.0.0.1 (threading mode) and real python-socketio clients."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from tests.realtime.helpers import LiveClient, csrf_of, http_login


@pytest.fixture
def cast(live_server):  # type: ignore[no-untyped-def]
    from helpdesk.tickets.services import create_category
    from helpdesk.users import services as users
    from tests.conftest import PASSWORD

    live_server.app.config.update(PRESENCE_GRACE_SECONDS=1, REALTIME_CHECK_SECONDS=1)
    with live_server.app.app_context():
        ids = {}
        for name, role in (("boss", "admin"), ("tech", "technician"), ("alice", "user")):
            ids[name] = users.create_user(
                None, username=name, password=PASSWORD, role=role, full_name=name.title()
            ).id
        ids["category"] = create_category(None, "Hardware").id
        db.session.commit()
    clients: list[LiveClient] = []
    yield ids, clients
    for c in clients:
        c.close()


def connect(live_server, clients, session, **kw):  # type: ignore[no-untyped-def]
    c = LiveClient(live_server.url, session, **kw)
    clients.append(c)
    return c


def test_two_people_chat_with_delivery_receipts_and_unread_counts(live_server, cast):
    ids, clients = cast
    alice_http = http_login(live_server.url, "alice")
    tech_http = http_login(live_server.url, "tech")
    alice = connect(live_server, clients, alice_http)
    alice_tab2 = connect(live_server, clients, alice_http)
    tech = connect(live_server, clients, tech_http)

    resp = alice_http.post(
        live_server.url + "/chat/start",
        data={"user_id": ids["tech"], "csrf_token": csrf_of(alice_http, live_server.url)},
        allow_redirects=False,
    )
    conv_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert alice.call("chat:open", {"conversation_id": conv_id})["ok"] is True

    ack = alice.call("chat:send", {"conversation_id": conv_id, "body": "My <screen> is black"})
    assert ack["ok"] is True
    msg_id = ack["message"]["id"]
    got = tech.wait_for("chat:message", lambda m: m["id"] == msg_id)
    assert got["html"] == "My &lt;screen&gt; is black" and got["unread_total"] == 1
    # Every open tab of the sender gets it too.
    alice_tab2.wait_for("chat:message", lambda m: m["id"] == msg_id)
    # The technician did not have the chat open: bell notification with counter.
    assert tech.wait_for("notification")["unread"] == 1
    counts = tech_http.get(live_server.url + "/notifications/count").json()
    assert counts == {"notifications": 1, "chat": 1}

    # Opening the chat reads it: alice sees "seen", tech's counter drops in every tab.
    assert tech.call("chat:open", {"conversation_id": conv_id})["read_upto"] == msg_id
    receipt = alice.wait_for("chat:read", lambda d: d["reader_id"] == ids["tech"])
    assert receipt["upto"] == msg_id
    assert tech.wait_for("chat:read")["unread_total"] == 0
    assert tech_http.get(live_server.url + "/notifications/count").json()["chat"] == 0

    # Typing reaches the other side's open chat, not the typer.
    assert tech.call("chat:typing", {"conversation_id": conv_id})["ok"] is True
    assert alice.wait_for("chat:typing")["user_id"] == ids["tech"]
    # With the chat open on the other side, no bell notification is stored.
    ack = tech.call("chat:send", {"conversation_id": conv_id, "body": "Restart it"})
    alice.wait_for("chat:message", lambda m: m["id"] == ack["message"]["id"])
    assert alice_http.get(live_server.url + "/notifications/count").json()["notifications"] == 0


def test_presence_with_two_tabs_goes_offline_after_the_last(live_server, cast):
    ids, clients = cast
    tech = connect(live_server, clients, http_login(live_server.url, "tech"))
    alice_http = http_login(live_server.url, "alice")
    tab1 = connect(live_server, clients, alice_http)
    assert tech.wait_for("presence", lambda p: p["user_id"] == ids["alice"])["status"] == "online"
    tab2 = connect(live_server, clients, alice_http)
    assert tab2.call("presence:away", {"away": True})["status"] == "online"  # tab1 is active
    assert tab1.call("presence:away", {"away": True})["status"] == "away"
    assert tech.wait_for("presence", lambda p: p["user_id"] == ids["alice"])["status"] == "away"
    tab1.close()
    statuses = tech.call("presence:query", {"user_ids": [ids["alice"]]})["statuses"]
    assert statuses[str(ids["alice"])] == "away"  # still one tab open
    tab2.close()
    offline = tech.wait_for("presence", lambda p: p["status"] == "offline")
    assert offline["user_id"] == ids["alice"] and offline["last_seen"]
    statuses = tech.call("presence:query", {"user_ids": [ids["alice"]]})["statuses"]
    assert statuses[str(ids["alice"])] == "offline"
    with live_server.app.app_context():
        from helpdesk.users.models import User

        assert db.session.get(User, ids["alice"]).last_seen_at is not None
    # A user may not learn another user's presence; staff presence is visible to users.
    alice2 = connect(live_server, clients, alice_http)
    seen = alice2.call("presence:query", {"user_ids": [ids["alice"], ids["tech"]]})["statuses"]
    assert seen == {str(ids["tech"]): "online"}


def test_assignment_notification_reaches_the_technicians_open_socket(live_server, cast):
    ids, clients = cast
    with live_server.app.app_context():
        from helpdesk.tickets import services as tickets
        from helpdesk.users.models import User

        ticket = tickets.create_ticket(
            db.session.get(User, ids["alice"]),
            title="Printer",
            description="jammed",
            category_id=ids["category"],
            priority="high",
        )
        db.session.commit()
        ticket_id = ticket.id
    tech = connect(live_server, clients, http_login(live_server.url, "tech"))
    alice = connect(live_server, clients, http_login(live_server.url, "alice"))
    assert alice.call("ticket:watch", {"ticket_id": ticket_id})["ok"] is True
    boss_http = http_login(live_server.url, "boss")
    resp = boss_http.post(
        f"{live_server.url}/tickets/{ticket_id}/assign",
        data={"assignee_id": ids["tech"], "csrf_token": csrf_of(boss_http, live_server.url)},
    )
    assert resp.status_code == 200
    note = tech.wait_for("notification")
    assert note["kind"] == "ticket_assigned" and note["url"] == f"/tickets/{ticket_id}"
    assert alice.wait_for("ticket:changed")["kind"] == "assigned"
    tech.wait_for("tickets:changed", lambda d: d["ticket_id"] == ticket_id)


def test_logout_in_one_tab_disconnects_that_sessions_sockets_only(live_server, cast):
    ids, clients = cast
    first = http_login(live_server.url, "alice")
    other = http_login(live_server.url, "alice")  # another browser, another session
    tab1 = connect(live_server, clients, first)
    tab2 = connect(live_server, clients, first, transports=["polling"])
    elsewhere = connect(live_server, clients, other)
    resp = first.post(
        live_server.url + "/logout", data={"csrf_token": csrf_of(first, live_server.url)}
    )
    assert resp.status_code == 200
    assert tab1.disconnected.wait(10) and tab2.disconnected.wait(10)
    assert not elsewhere.disconnected.is_set()
    assert elsewhere.call("presence:away", {"away": False})["ok"] is True
    # The old cookie cannot open a new socket either.
    with pytest.raises(Exception):  # noqa: B017  (python-socketio raises ConnectionError)
        connect(live_server, clients, first)


def test_deactivation_elsewhere_disconnects_within_the_check_interval(live_server, cast):
    ids, clients = cast
    alice = connect(live_server, clients, http_login(live_server.url, "alice"))
    with live_server.app.app_context():  # as another process would: no signal here
        from helpdesk.users.models import User

        db.session.get(User, ids["alice"]).active = False
        db.session.commit()
    assert alice.disconnected.wait(10)


def test_foreign_origin_is_refused_by_the_real_server(live_server, cast):
    alice_http = http_login(live_server.url, "alice")
    for transports in (["websocket"], ["polling"]):
        with pytest.raises(Exception):  # noqa: B017  (python-socketio's ConnectionError)
            connect(
                live_server, [], alice_http, transports=transports, origin="http://evil.example"
            )
    ok = connect(live_server, cast[1], alice_http, transports=["polling"])
    assert ok.call("presence:away", {"away": False})["ok"] is True
