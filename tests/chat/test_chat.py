"""Chat services and pages: who may talk, history pages, escaping, read receipts."""

from __future__ import annotations

from helpdesk.chat import services as chat
from helpdesk.errors import PermissionDenied
from helpdesk.extensions import db
from tests.realtime.helpers import received, socket_for


def test_who_may_chat(app, people):
    alice, bob, tech = people["user"], people["user2"], people["tech"]
    try:
        chat.start_conversation(alice, bob)
        raise AssertionError("users must not chat with users")
    except PermissionDenied:
        pass
    conv = chat.start_conversation(alice, tech)
    assert chat.start_conversation(tech, alice).id == conv.id  # one conversation per pair
    assert chat.start_conversation(tech, bob).id != conv.id  # staff talk to anyone


def test_text_is_escaped_and_links_clickable():
    html = str(chat.render_text('<script>x</script> see https://example.org/a?b=1&c=2. "q"\nok'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow"' in html
    assert "2</a>." in html and "<br>ok" in html
    assert "<a" not in str(chat.render_text("javascript:alert(1) and http://"))


def test_history_is_paged_backwards(app, client, people):
    app.config["CHAT_RATE_LIMIT"] = "1000 per minute"
    alice, tech = people["user"], people["tech"]
    conv = chat.start_conversation(alice, tech)
    for i in range(65):
        chat.send_message(alice if i % 2 else tech, conv, f"message {i}")
    db.session.commit()
    first = chat.history(alice, conv)
    assert [m.body for m in first.messages][-1] == "message 64" and first.has_more
    assert len(first.messages) == chat.HISTORY_PAGE
    client.login("alice")
    seen = [m.body for m in first.messages]
    before = first.messages[0].id
    while True:
        data = client.get(f"/chat/{conv.id}/messages?before={before}").json
        seen = [m["html"] for m in data["messages"]] + seen
        if not data["has_more"]:
            break
        before = data["messages"][0]["id"]
    assert seen == [f"message {i}" for i in range(65)]


def test_unread_counts_and_read_receipts(app, client, people):
    alice, tech = people["user"], people["tech"]
    conv = chat.start_conversation(tech, alice)
    m1 = chat.send_message(tech, conv, "one")
    chat.send_message(tech, conv, "two")
    db.session.commit()
    assert chat.unread_total(alice) == 2 and chat.unread_total(tech) == 0
    client.login("tech")
    tech_socket = socket_for(app, client)
    tech_socket.get_received()
    chat.mark_read(alice, conv, m1.id)
    db.session.commit()
    assert chat.unread_total(alice) == 1
    (receipt,) = received(tech_socket, "chat:read")
    assert receipt == {"conversation_id": conv.id, "reader_id": alice.id, "upto": m1.id}
    assert chat.seen_upto(conv, tech) == m1.id


def test_chat_page_and_one_click_from_ticket(app, client, people, make_ticket):
    alice, tech = people["user"], people["tech"]
    ticket = make_ticket(alice)
    from helpdesk.tickets import services as tickets

    tickets.take_ticket(tech, ticket)
    db.session.commit()
    client.login("alice")
    page = client.get(f"/tickets/{ticket.id}")
    assert b'id="ticket-chat"' in page.data
    resp = client.post("/chat/start", data={"user_id": tech.id})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert b'id="chat"' in page.data and tech.display_name.encode() in page.data
    # Without JavaScript the composer posts a plain form.
    conv_url = resp.headers["Location"]
    resp = client.post(conv_url + "/messages", data={"body": "<b>hi</b> https://x.org"})
    assert resp.status_code == 302
    page = client.get(conv_url)
    assert b"&lt;b&gt;hi&lt;/b&gt;" in page.data and b'href="https://x.org"' in page.data


def test_sockets_of_both_people_get_each_message(app, client, people):
    alice, tech = people["user"], people["tech"]
    conv = chat.start_conversation(alice, tech)
    db.session.commit()
    client.login("alice")
    tab1, tab2 = socket_for(app, client), socket_for(app, client)
    ack = tab1.emit("chat:send", {"conversation_id": conv.id, "body": "hello"}, callback=True)
    assert ack["ok"] is True
    assert [m["html"] for m in received(tab2, "chat:message")] == ["hello"]
    # The technician did not have the chat open: a notification was stored.
    from helpdesk.notifications.services import unread_count

    assert unread_count(tech) == 1 and chat.unread_total(tech) == 1
