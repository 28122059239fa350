"""Notification rows for ticket events and chat; the page; mark one / all read."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.notifications.models import Notification, NotificationKind
from helpdesk.tickets import services as tickets
from tests.realtime.helpers import received, socket_for


def kinds_for(user) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        n.kind.value
        for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


def test_ticket_events_create_the_right_notifications(app, people, make_ticket):
    alice, tech, boss = people["user"], people["tech"], people["admin"]
    ticket = make_ticket(alice)
    tickets.assign_ticket(boss, ticket, tech.id)
    db.session.commit()
    assert kinds_for(tech) == ["ticket_assigned"]
    tickets.add_comment(tech, ticket, "Looking at it")
    db.session.commit()
    assert kinds_for(alice) == ["ticket_comment"]
    tickets.add_comment(tech, ticket, "internal: it is the PSU", internal=True)
    db.session.commit()
    assert kinds_for(alice) == ["ticket_comment"]  # internal notes never reach the user
    tickets.add_comment(alice, ticket, "Thanks!")
    db.session.commit()
    assert kinds_for(tech) == ["ticket_assigned", "ticket_activity"]
    tickets.add_comment(boss, ticket, "admin note", internal=True)
    db.session.commit()
    assert kinds_for(tech) == ["ticket_assigned", "ticket_activity", "ticket_activity"]
    tickets.change_status(tech, ticket, "resolved")
    db.session.commit()
    assert kinds_for(alice) == ["ticket_comment", "ticket_status"]
    # Nobody is notified about their own action.
    assert kinds_for(boss) == []


def test_rolled_back_change_leaves_no_notification_and_no_emit(app, client, people, make_ticket):
    alice, tech = people["user"], people["tech"]
    ticket = make_ticket(alice)
    client.login("alice")
    sc = socket_for(app, client)
    sc.get_received()
    tickets.add_comment(tech, ticket, "will be rolled back")
    db.session.rollback()
    assert kinds_for(alice) == []
    assert received(sc, "notification") == []


def test_notification_reaches_open_socket_with_counter(app, client, people, make_ticket):
    alice, tech = people["user"], people["tech"]
    ticket = make_ticket(alice)
    client.login("alice")
    sc = socket_for(app, client)
    sc.get_received()
    tickets.add_comment(tech, ticket, "Hello from support")
    db.session.commit()
    (note,) = received(sc, "notification")
    assert note["unread"] == 1 and ticket.number in note["text"]
    assert note["url"].endswith(f"/tickets/{ticket.id}")


def test_page_mark_one_and_all_read(app, client, people, make_ticket):
    alice, tech = people["user"], people["tech"]
    ticket = make_ticket(alice)
    for i in range(3):
        tickets.add_comment(tech, ticket, f"update {i}")
        db.session.commit()
    client.login("alice")
    page = client.get("/notifications")
    assert page.status_code == 200
    assert page.data.count(b"notification-unread") == 3
    assert b'id="notifications-unread">3<' in page.data  # bell counter after reload
    first = db.session.scalars(select(Notification).where(Notification.user_id == alice.id)).first()
    # CSRF is required
    assert client.post(f"/notifications/{first.id}/read", csrf=False).status_code == 400
    resp = client.post(f"/notifications/{first.id}/read", data={"go": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tickets/{ticket.id}")
    assert client.get("/notifications/count").json["notifications"] == 2
    resp = client.post(
        "/notifications/read-all",
        headers={"X-CSRFToken": client.csrf_token(), "X-Requested-With": "XMLHttpRequest"},
    )
    assert resp.json == {"ok": True, "unread": 0}
    assert client.get("/notifications/count").json["notifications"] == 0


def test_cannot_mark_someone_elses_notification(app, client, people, make_ticket):
    ticket = make_ticket(people["user2"])
    tickets.add_comment(people["tech"], ticket, "for bob")
    db.session.commit()
    n = db.session.scalars(select(Notification)).one()
    assert n.kind == NotificationKind.TICKET_COMMENT
    client.login("alice")
    assert client.post(f"/notifications/{n.id}/read").status_code == 404
    db.session.refresh(n)
    assert n.read_at is None
