"""Matrix 6: the chat rate limit holds whatever the entry point: the no-JavaScript
form (POST /chat/<id>/messages), the socket and the service share one count per person."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.chat import services as chat
from helpdesk.chat.models import Message
from helpdesk.extensions import db
from helpdesk.notifications.models import Notification
from tests.realtime.helpers import socket_for


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return int(db.session.scalar(select(func.count(model.id))))


def test_http_chat_is_rate_limited(app, client, people):  # type: ignore[no-untyped-def]
    conv = chat.start_conversation(people["user"], people["tech"])
    db.session.commit()
    client.login("alice")
    codes = [
        client.post(f"/chat/{conv.id}/messages", data={"body": f"spam {i}"}).status_code
        for i in range(40)
    ]
    assert codes[:20] == [302] * 20 and set(codes[20:]) == {429}, codes
    assert _count(Message) == 20
    assert _count(Notification) <= 20
    refused = client.post(f"/chat/{conv.id}/messages", data={"body": "one more"})
    assert b"too fast" in refused.data and 1 <= int(refused.headers["Retry-After"]) <= 10


def test_socket_and_form_share_one_count(app, client, people):  # type: ignore[no-untyped-def]
    app.config["CHAT_RATE_LIMIT"] = "3 per minute"
    conv = chat.start_conversation(people["user"], people["tech"])
    db.session.commit()
    client.login("alice")
    sc = socket_for(app, client)
    acks = [
        sc.emit("chat:send", {"conversation_id": conv.id, "body": f"m{i}"}, callback=True)
        for i in range(2)
    ]
    assert [a["ok"] for a in acks] == [True, True]
    assert client.post(f"/chat/{conv.id}/messages", data={"body": "m2"}).status_code == 302
    assert client.post(f"/chat/{conv.id}/messages", data={"body": "m3"}).status_code == 429
    ack = sc.emit("chat:send", {"conversation_id": conv.id, "body": "m4"}, callback=True)
    assert ack["ok"] is False and "too fast" in ack["error"]
    assert _count(Message) == 3
