"""Personal data: an admin exports everything about a person, or erases them; after
erasure nothing that identifies them is left in any table (every column of every row,
also tables outside the models such as the search index) or in any file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from helpdesk.attachments.services import Upload
from helpdesk.audit.models import AuditLog
from helpdesk.chat import services as chat
from helpdesk.chat.models import Message
from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.users.models import User

NAME, USERNAME, EMAIL, IP = "Zoé Únicavez", "zoe.unica", "zoe.unica@example.test", "203.0.113.77"
NEEDLES = [NAME, USERNAME, EMAIL, IP, "Únicavez"]


@pytest.fixture
def zoe(app, client, people, category, make_user):  # type: ignore[no-untyped-def]
    """A person with everything: tickets, comments, an attachment, chat, notifications,
    a session and audit rows; a colleague has a ticket of his own."""
    person = make_user("user", USERNAME, full_name=NAME, email=EMAIL)
    tech, boss = people["tech"], people["admin"]
    own = tickets.create_ticket(
        person,
        title="Portátil lento",
        description="Va muy lento desde ayer.",
        category_id=category.id,
        uploads=[Upload("captura.txt", io.BytesIO(f"Usuario: {NAME}\n".encode()))],
    )
    tickets.assign_ticket(boss, own, tech.id)
    tickets.add_comment(tech, own, "Lo miro.")
    other = tickets.create_ticket(
        people["user2"], title="Impresora", description="Atasco", category_id=category.id
    )
    tickets.take_ticket(tech, other)
    conv = chat.start_conversation(person, tech)
    chat.send_message(person, conv, f"Soy {NAME}, ¿me llamáis?", notify=False)
    chat.send_message(tech, conv, "Claro", notify=True)
    db.session.commit()
    her = app.test_client()
    her.environ_base["REMOTE_ADDR"] = IP
    her.login(USERNAME)  # a login session with her address, audit rows
    her.post(f"/tickets/{own.id}/comments", data={"body": "A mí también me pasa."})
    db.session.expire_all()
    return person, own, other


def everything_stored() -> str:
    """Every value of every row of every table in the database, as one text."""
    chunks = []
    with db.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(
                text(f"SELECT * FROM {conn.dialect.identifier_preparer.quote(name)}")
            ):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def every_file(app) -> str:  # type: ignore[no-untyped-def]
    out = []
    for key in ("UPLOAD_DIR", "EXPORT_DIR"):
        root = Path(app.config[key])
        if root.is_dir():
            out += [
                p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()
            ]
    return "\n".join(out)


def test_export_holds_everything_about_the_person(client, zoe):
    person, own, other = zoe
    client.login("boss")
    resp = client.post(f"/admin/users/{person.id}/personal-data")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(resp.data))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == EMAIL and "password_hash" not in data["account"]
    tables = data["tables"]
    assert {t["title"] for t in tables["tickets"]} == {"Portátil lento"}
    assert "A mí también me pasa." in {c["body"] for c in tables["comments"]}
    assert any(NAME in m["body"] for m in tables["messages"])
    assert IP in {s["ip"] for s in tables["login_sessions"]}
    assert tables["notifications"] and tables["audit_log"] and tables["attachments"]
    files = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert len(files) == 1 and NAME in archive.read(files[0]).decode()
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "privacy.export"))


def test_export_and_erase_are_admin_only(client, zoe, people):
    person, _own, _other = zoe
    client.login("tech")
    assert client.post(f"/admin/users/{person.id}/personal-data").status_code == 403
    resp = client.post(f"/admin/users/{person.id}/erase", data={"confirm": USERNAME})
    assert resp.status_code == 403
    client.post("/logout")
    client.login("boss")
    resp = client.post(f"/admin/users/{person.id}/erase", data={"confirm": "zoe"})
    assert resp.status_code == 302
    assert db.session.get(User, person.id).username == USERNAME  # not confirmed: kept
    resp = client.post(f"/admin/users/{people['admin'].id}/erase", data={"confirm": "boss"})
    db.session.expire_all()
    assert db.session.get(User, people["admin"].id).username == "boss"  # never oneself


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_erasure_leaves_nothing_personal(app, client, zoe, mode):
    person, own, other = zoe
    person_id, own_id, other_id = person.id, own.id, other.id
    assert all(n in everything_stored() for n in NEEDLES)  # the check can see them
    client.login("boss")
    resp = client.post(f"/admin/users/{person_id}/erase", data={"confirm": USERNAME, "mode": mode})
    assert resp.status_code == 302
    db.session.expire_all()
    stored, files = everything_stored(), every_file(app)
    for needle in NEEDLES:
        assert needle not in stored, needle
        assert needle not in files, needle
    erased = db.session.get(User, person_id)
    assert erased.username == f"~deleted-{person_id}" and not erased.active
    assert erased.display_name == "Deleted user"
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0  # whole chat gone
    # Sign-in is impossible: neither the old name nor the placeholder works.
    fresh = app.test_client()
    assert "/login" in fresh.login(USERNAME).headers.get("Location", "/login")
    assert fresh.login(erased.username).status_code != 302
    comments = set(db.session.scalars(select(Comment.body)))
    if mode == "anonymise":
        assert db.session.get(Ticket, own_id).requester_id == person_id
        assert "A mí también me pasa." in comments
        page = client.get(f"/tickets/{own_id}").get_data(as_text=True)
        assert "Deleted user" in page
    else:
        assert db.session.get(Ticket, own_id) is None
        assert db.session.get(Ticket, other_id) is not None  # a colleague's ticket stays
        assert "A mí también me pasa." not in comments
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "privacy.erase"))
    assert row.target_id == person_id and json.loads(row.detail)["mode"] == mode
    assert client.get("/admin/users").status_code == 200
