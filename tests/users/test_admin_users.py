"""Administration of people and categories, through the pages and the services."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditLog
from helpdesk.errors import Conflict, InvalidInput, PermissionDenied
from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Category, Ticket
from helpdesk.users import services as users
from helpdesk.users.models import Role, User
from tests.conftest import PASSWORD

TEMP = "Temp-passw0rd-123"


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_create_user_from_the_admin_page(client, people):
    client.login("boss")
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "carol",
            "full_name": "Carol Díaz",
            "email": "carol@example.com",
            "role": "technician",
            "password": TEMP,
        },
    )
    assert resp.status_code == 302
    carol = _user("carol")
    assert (carol.role, carol.full_name, carol.must_change_password) == (
        Role.TECHNICIAN,
        "Carol Díaz",
        True,
    )
    assert "user.created" in _actions()
    again = client.post(
        "/admin/users/new", data={"username": "CAROL", "role": "user", "password": TEMP}
    )
    assert again.status_code == 400  # the name is taken, whatever its case
    names = db.session.scalars(select(User.username).where(func.lower(User.username) == "carol"))
    assert list(names) == ["carol"]

    # the new person must choose a password at first sign-in
    other = client.application.test_client()
    resp = other.login("carol", TEMP)
    assert resp.status_code == 302 and "/account/password" in resp.headers["Location"]
    assert other.get("/tickets").status_code == 302  # nothing else until then


def test_edit_and_change_role(client, people):
    client.login("boss")
    bob = people["user2"]
    version = bob.session_version
    resp = client.post(
        f"/admin/users/{bob.id}",
        data={"full_name": "Robert Smith", "email": "bob@example.com", "role": "technician"},
    )
    assert resp.status_code == 302
    bob = _user("bob")
    assert (bob.full_name, bob.email, bob.role) == (
        "Robert Smith",
        "bob@example.com",
        Role.TECHNICIAN,
    )
    assert bob.session_version == version + 1  # his sessions end with the old role
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "user.role_changed")).one()
    assert entry.target_id == bob.id and '"technician"' in entry.detail


def test_admin_cannot_demote_or_deactivate_themselves(people):
    boss = people["admin"]
    with pytest.raises(InvalidInput):
        users.update_user(boss, boss, role="user")
    db.session.rollback()
    with pytest.raises(InvalidInput):
        users.set_active(boss, boss, False)
    db.session.rollback()
    assert _user("boss").role == Role.ADMIN and _user("boss").active


def test_deactivated_user_cannot_log_in_and_keeps_history(client, people, make_ticket):
    alice = people["user"]
    ticket = make_ticket(alice, title="Alice's printer")
    tickets.add_comment(alice, ticket, "still broken")
    db.session.commit()

    alice_client = client.application.test_client()
    assert alice_client.login("alice").status_code == 302
    assert alice_client.get("/tickets").status_code == 200

    client.login("boss")
    resp = client.post(f"/admin/users/{alice.id}/active", data={"active": "0"})
    assert resp.status_code == 302
    assert _user("alice").active is False
    assert "user.deactivated" in _actions()

    # her open session ends, and she cannot sign in again
    assert alice_client.get("/tickets").status_code == 302
    fresh = client.application.test_client()
    assert fresh.login("alice").status_code == 401
    # her tickets and comments stay, with her name on them
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Alice&#39;s printer" in page or "Alice's printer" in page
    assert "still broken" in page
    assert db.session.get(Ticket, ticket.id).requester_id == alice.id

    # and an administrator can bring her back
    client.post(f"/admin/users/{alice.id}/active", data={"active": "1"})
    assert _user("alice").active is True
    assert fresh.login("alice").status_code == 302


def test_reset_password_forces_a_change_at_next_login(client, people):
    alice = people["user"]
    alice_client = client.application.test_client()
    alice_client.login("alice")

    client.login("boss")
    resp = client.post(f"/admin/users/{alice.id}/password", data={"reset-password": TEMP})
    assert resp.status_code == 302
    assert _user("alice").must_change_password is True
    assert "user.password_reset" in _actions()

    assert alice_client.get("/tickets").status_code == 302  # the old session ended
    fresh = client.application.test_client()
    assert fresh.login("alice", PASSWORD).status_code == 401  # old password gone
    resp = fresh.login("alice", TEMP)
    assert resp.status_code == 302 and "/account/password" in resp.headers["Location"]
    resp = fresh.post(
        "/account/password",
        data={
            "current_password": TEMP,
            "new_password": "Brand-new-passw0rd",
            "confirm": "Brand-new-passw0rd",
        },
    )
    assert resp.status_code == 302, resp.data[:400]
    assert _user("alice").must_change_password is False
    assert fresh.get("/tickets").status_code == 200

    weak = client.post(f"/admin/users/{alice.id}/password", data={"reset-password": "abc"})
    assert weak.status_code == 302
    assert _user("alice").must_change_password is False  # refused: nothing changed


@pytest.mark.parametrize("who", ["tech", "user"])
def test_people_services_refuse_non_admins(people, who):
    actor = people[who]
    target = people["user2"]
    calls = [
        lambda: users.create_user(actor, username="zed", password=PASSWORD),
        lambda: users.update_user(actor, target, full_name="x"),
        lambda: users.update_user(actor, target, role="admin"),
        lambda: users.set_active(actor, target, False),
        lambda: users.reset_password(actor, target, TEMP),
        lambda: users.list_users(actor),
        lambda: tickets.create_category(actor, "New"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
        db.session.rollback()
    assert _user("bob").role == Role.USER and _user("bob").active
    assert _user("zed") is None


# ---------------------------------------------------------------- categories


def _category(name: str) -> Category | None:
    db.session.expire_all()
    return db.session.scalar(select(Category).where(Category.name == name))


def test_category_create_rename_deactivate(client, people):
    client.login("boss")
    assert (
        client.post("/admin/categories", data={"name": "Network", "active": "y"}).status_code == 302
    )
    network = _category("Network")
    assert network is not None and network.active
    dup = client.post("/admin/categories", data={"name": "network", "active": "y"})
    assert dup.status_code == 400  # names are unique whatever the case

    resp = client.post(
        f"/admin/categories/{network.id}",
        data={"name": "Networks", "description": "LAN", "active": "y"},
    )
    assert resp.status_code == 302
    assert _category("Networks").description == "LAN"

    resp = client.post(f"/admin/categories/{network.id}", data={"name": "Networks"})  # unchecked
    assert resp.status_code == 302
    assert _category("Networks").active is False
    # an inactive category is not offered for new tickets
    alice = client.application.test_client()
    alice.login("alice")
    assert "Networks" not in alice.get("/tickets/new").get_data(as_text=True)
    with pytest.raises(InvalidInput):
        tickets.create_ticket(people["user"], title="t", description="d", category_id=network.id)


def test_category_in_use_cannot_be_deleted(client, people, make_ticket, category):
    make_ticket(people["user"])
    client.login("boss")
    resp = client.post(f"/admin/categories/{category.id}/delete")
    assert resp.status_code in (302, 303)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "deactivate it instead" in page
    assert _category("Hardware") is not None

    with pytest.raises(Conflict):
        tickets.delete_category(people["admin"], category)
    db.session.rollback()

    unused = tickets.create_category(None, "Unused")
    db.session.commit()
    resp = client.post(f"/admin/categories/{unused.id}/delete")
    assert resp.status_code == 302
    assert _category("Unused") is None


def test_category_services_refuse_non_admins(people, category):
    for who in ("tech", "user"):
        with pytest.raises(PermissionDenied):
            tickets.update_category(people[who], category, name="Renamed")
        with pytest.raises(PermissionDenied):
            tickets.delete_category(people[who], category)
        db.session.rollback()
    assert _category("Hardware") is not None
