"""Socket.IO rules through Flask-SocketIO's test client: auth, origin, rooms, payloads."""

from __future__ import annotations

from helpdesk.chat import services as chat
from helpdesk.extensions import db
from tests.realtime.helpers import received, socket_for


def test_anonymous_connect_is_refused(app, client):
    sc = socket_for(app, client)
    assert not sc.is_connected()


def test_foreign_origin_is_refused(app, client, people):
    client.login("alice")
    sc = socket_for(app, client, origin="http://evil.example")
    assert not sc.is_connected()
    ok = socket_for(app, client)
    assert ok.is_connected()
    ok.disconnect()


def test_logged_in_user_connects_and_changed_session_version_is_refused(app, client, people):
    client.login("alice")
    sc = socket_for(app, client)
    assert sc.is_connected()
    sc.disconnect()
    people["user"].session_version += 1  # what a password reset or role change does
    db.session.commit()
    assert not socket_for(app, client).is_connected()


def test_ticket_room_join_refused_for_foreign_ticket(app, client, people, make_ticket):
    ticket = make_ticket(people["user2"], title="Bob's secret")
    client.login("alice")
    sc = socket_for(app, client)
    ack = sc.emit("ticket:watch", {"ticket_id": ticket.id}, callback=True)
    assert ack["ok"] is False
    # And nothing about that ticket reaches alice when it changes.
    from helpdesk.tickets import services as tickets

    tickets.add_comment(people["user2"], ticket, "still broken")
    db.session.commit()
    assert received(sc, "ticket:changed") == []


def test_ticket_watch_delivers_public_changes_but_never_internal_notes(
    app, client, people, make_ticket
):
    from helpdesk.tickets import services as tickets

    ticket = make_ticket(people["user"])
    client.login("alice")
    sc = socket_for(app, client)
    assert sc.emit("ticket:watch", {"ticket_id": ticket.id}, callback=True)["ok"] is True
    sc.get_received()
    tickets.take_ticket(people["tech"], ticket)
    db.session.commit()
    tickets.add_comment(people["tech"], ticket, "secret staff note", internal=True)
    db.session.commit()
    kinds = [e["kind"] for e in received(sc, "ticket:changed")]
    assert "assigned" in kinds and "note" not in kinds
    tickets.add_comment(people["tech"], ticket, "public answer")
    db.session.commit()
    assert [e["kind"] for e in received(sc, "ticket:changed")] == ["comment"]


def test_malformed_payloads_answer_errors_and_keep_the_connection(app, client, people):
    client.login("alice")
    sc = socket_for(app, client)
    for payload in (None, "x", 5, {"ticket_id": "1"}, {"ticket_id": True}, {"ticket_id": -3}):
        ack = sc.emit("ticket:watch", payload, callback=True)
        assert ack["ok"] is False and ack["error"]
    assert sc.is_connected()
    assert sc.emit("presence:away", {"away": True}, callback=True)["ok"] is True


def test_user_cannot_open_chat_with_another_user(app, client, people):
    client.login("alice")
    resp = client.post("/chat/start", data={"user_id": people["user2"].id})
    assert resp.status_code == 403
    resp = client.post("/chat/start", data={"user_id": people["tech"].id})
    assert resp.status_code == 302


def test_foreign_conversation_is_refused(app, client, people):
    conv = chat.start_conversation(people["tech"], people["user2"])
    chat.send_message(people["tech"], conv, "hi bob")
    db.session.commit()
    client.login("alice")
    sc = socket_for(app, client)
    for event, payload in (
        ("chat:open", {"conversation_id": conv.id}),
        ("chat:send", {"conversation_id": conv.id, "body": "let me in"}),
        ("chat:read", {"conversation_id": conv.id, "message_id": 1}),
        ("chat:typing", {"conversation_id": conv.id}),
    ):
        ack = sc.emit(event, payload, callback=True)
        assert ack["ok"] is False, event
    assert client.get(f"/chat/{conv.id}").status_code == 404
    assert client.get(f"/chat/{conv.id}/messages").status_code == 404


def test_oversize_message_gets_a_clear_error(app, client, people):
    conv = chat.start_conversation(people["user"], people["tech"])
    db.session.commit()
    client.login("alice")
    sc = socket_for(app, client)
    limit = app.config["CHAT_MESSAGE_MAX"]
    ack = sc.emit(
        "chat:send", {"conversation_id": conv.id, "body": "x" * (limit + 1)}, callback=True
    )
    assert ack["ok"] is False
    assert str(limit) in ack["error"] and ack["field"] == "body"
    huge = sc.emit("chat:send", {"conversation_id": conv.id, "body": "x" * 30000}, callback=True)
    assert huge["ok"] is False
    ok = sc.emit("chat:send", {"conversation_id": conv.id, "body": "x" * limit}, callback=True)
    assert ok["ok"] is True
    assert sc.is_connected()


def test_chat_send_is_rate_limited_per_user(app, client, people):
    app.config["CHAT_RATE_LIMIT"] = "3 per minute"
    conv = chat.start_conversation(people["user"], people["tech"])
    db.session.commit()
    client.login("alice")
    sc = socket_for(app, client)
    acks = [
        sc.emit("chat:send", {"conversation_id": conv.id, "body": f"m{i}"}, callback=True)
        for i in range(4)
    ]
    assert [a["ok"] for a in acks] == [True, True, True, False]
    assert "too fast" in acks[3]["error"]


def test_deactivation_disconnects_sockets(app, client, people):
    from helpdesk.users import services as users

    client.login("alice")
    sc = socket_for(app, client)
    assert sc.is_connected()
    users.set_active(people["admin"], people["user"], False)
    db.session.commit()
    from helpdesk.signals import user_sessions_revoked

    user_sessions_revoked.send(people["user"], reason="deactivated")
    assert not sc.is_connected()


def test_events_after_session_ends_are_refused(app, client, people):
    client.login("alice")
    sc = socket_for(app, client)
    people["user"].session_version += 1
    db.session.commit()
    ack = sc.emit("presence:away", {"away": True}, callback=True)
    assert ack["ok"] is False


def test_role_change_by_an_admin_disconnects_the_persons_sockets(app, client, people):
    client.login("tech")
    sc = socket_for(app, client)
    assert sc.is_connected()
    admin = app.test_client()
    admin.login("boss")
    tech = people["tech"]
    resp = admin.post(
        f"/admin/users/{tech.id}",
        data={"full_name": tech.full_name, "email": "", "role": "user"},
    )
    assert resp.status_code == 302
    assert not sc.is_connected()
    assert not socket_for(app, client).is_connected()  # the old cookie is refused too


def test_idle_session_socket_is_closed_by_the_checker(app, client, people):
    from helpdesk.realtime.state import get_state

    client.login("alice")
    sc = socket_for(app, client)
    get_state().check_once()
    assert sc.is_connected()  # a fresh session stays
    app.config["SESSION_TIMEOUT_MINUTES"] = 0  # every session is now past its idle limit
    get_state().check_once()
    assert not sc.is_connected()


def test_reassigned_ticket_stops_reaching_the_technician_who_lost_it(
    app, client, people, make_ticket
):
    from helpdesk.realtime.state import get_state
    from helpdesk.tickets import services as tickets

    ticket = make_ticket(people["user"])  # unassigned: every technician may see it
    client.login("tech")
    sc = socket_for(app, client)
    assert sc.emit("ticket:watch", {"ticket_id": ticket.id}, callback=True)["staff"] is True
    tickets.assign_ticket(people["admin"], ticket, people["tech2"].id)
    db.session.commit()
    get_state().check_once()  # the periodic re-check of every socket's rooms
    sc.get_received()
    tickets.add_comment(people["tech2"], ticket, "only for tech2 and admins", internal=True)
    tickets.add_comment(people["tech2"], ticket, "public reply")
    db.session.commit()
    assert received(sc, "ticket:changed") == []
