"""Mass assignment and cross-object ids, at view level: extra or forged fields are
ignored or refused (the Zammad CVE-2026-34722 class)."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.models import Comment, Status, Ticket
from helpdesk.users.models import Role, User


def _new_ticket(client, category, **extra):  # type: ignore[no-untyped-def]
    data = {
        "title": "Forged",
        "description": "d",
        "category_id": str(category.id),
        "priority": "low",
        **extra,
    }
    return client.post("/tickets/new", data=data)


def test_user_cannot_set_owner_assignee_status_or_number(client, people, category):  # type: ignore[no-untyped-def]
    client.login("alice")
    r = _new_ticket(
        client,
        category,
        assignee_id=str(people["tech"].id),
        requester_id=str(people["user2"].id),
        status="closed",
        internal="1",
        number="TKT-1999-000001",
        id="999",
        created_at="2000-01-01",
    )
    assert r.status_code == 302
    ticket = db.session.scalars(select(Ticket).where(Ticket.title == "Forged")).one()
    assert ticket.requester_id == people["user"].id
    assert ticket.assignee_id is None
    assert ticket.status == Status.OPEN
    assert ticket.number != "TKT-1999-000001" and ticket.id != 999


def test_user_comment_cannot_be_internal_or_impersonate(client, people, make_ticket):  # type: ignore[no-untyped-def]
    ticket = make_ticket(people["user"])
    client.login("alice")
    client.post(
        f"/tickets/{ticket.id}/comments",
        data={"body": "hi", "author_id": str(people["admin"].id), "ticket_id": "1"},
    )
    client.post(f"/tickets/{ticket.id}/comments", data={"body": "note?", "internal": "y"})
    comments = db.session.scalars(select(Comment).where(Comment.ticket_id == ticket.id)).all()
    assert [c.author_id for c in comments] == [people["user"].id]
    assert not any(c.internal for c in comments)


def test_profile_cannot_change_role_or_identity(client, people):  # type: ignore[no-untyped-def]
    client.login("alice")
    client.post(
        "/account/profile",
        data={
            "full_name": "Alice A.",
            "email": "",
            "locale": "",
            "theme": "",
            "role": "admin",
            "active": "0",
            "username": "boss",
            "session_version": "1",
            "must_change_password": "0",
            "password_hash": "x",
        },
    )
    alice = db.session.get(User, people["user"].id)
    db.session.refresh(alice)
    assert alice.role == Role.USER and alice.active and alice.username == "alice"
    assert alice.password_hash != "x"


def test_user_status_and_priority_forgery(client, people, make_ticket):  # type: ignore[no-untyped-def]
    ticket = make_ticket(people["user"])
    client.login("alice")
    # a user may only close their own ticket, not move it through the staff statuses
    r = client.post(f"/tickets/{ticket.id}/status", data={"status": "resolved"})
    assert r.status_code == 403
    r = client.post(f"/tickets/{ticket.id}/priority", data={"priority": "urgent"})
    assert r.status_code == 403
    db.session.refresh(ticket)
    assert ticket.status == Status.OPEN and ticket.priority.value == "medium"


def test_assignee_must_be_active_staff(client, people, make_ticket, make_user):  # type: ignore[no-untyped-def]
    ticket = make_ticket(people["user"])
    client.login("boss")
    gone = make_user("technician", "gone")
    client.post(f"/admin/users/{gone.id}/active", data={"active": "0"})
    for bad in (people["user2"].id, gone.id, 999999, "abc"):
        r = client.post(f"/tickets/{ticket.id}/assign", data={"assignee_id": str(bad)})
        assert r.status_code == 400, bad
    db.session.refresh(ticket)
    assert ticket.assignee_id is None


def test_inactive_or_unknown_category_is_refused(client, people, category, make_ticket):  # type: ignore[no-untyped-def]
    from helpdesk.tickets.services import create_category, update_category

    old = create_category(None, "Retired")
    update_category(people["admin"], old, name="Retired", description="", active=False)
    db.session.commit()
    client.login("alice")
    for bad in (old.id, 999999):
        r = _new_ticket(client, category, category_id=str(bad))
        assert r.status_code == 400
    assert db.session.scalar(select(Ticket.id)) is None
    ticket = make_ticket(people["user"])
    staff = client.application.test_client()
    staff.login("boss")
    r = staff.post(f"/tickets/{ticket.id}/category", data={"category_id": str(old.id)})
    assert r.status_code == 400
    db.session.refresh(ticket)
    assert ticket.category_id == category.id


def test_admin_cannot_forge_a_role(client, people):  # type: ignore[no-untyped-def]
    client.login("boss")
    r = client.post(
        f"/admin/users/{people['user'].id}",
        data={"full_name": "A", "email": "", "role": "superadmin"},
    )
    assert r.status_code == 400
    db.session.refresh(people["user"])
    assert people["user"].role == Role.USER
    # and cannot change their own role or deactivate themselves
    client.post(
        f"/admin/users/{people['admin'].id}", data={"full_name": "B", "email": "", "role": "user"}
    )
    client.post(f"/admin/users/{people['admin'].id}/active", data={"active": "0"})
    db.session.refresh(people["admin"])
    assert people["admin"].role == Role.ADMIN and people["admin"].active
