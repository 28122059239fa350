"""The mail admin pages: admins only, CSRF on every POST, audit rows, passwords
never shown back, test-connection buttons against real servers, the outbox retry,
the quarantine and originals for staff; the profile's mail preferences."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from helpdesk.mail import crypto
from helpdesk.mail.models import (
    Direction,
    Mailbox,
    MailMessage,
    MailPreference,
    Outbox,
    OutboxStatus,
    Quarantine,
    SmtpRelay,
)
from tests.mail.conftest import CORPUS, DESK, SmtpServer, message

PAGES = ["/admin/mail", "/admin/mail/mailboxes/new"]


def _actions() -> list[str]:
    query = select(AuditLog.action).where(AuditLog.action.like("mail.%")).order_by(AuditLog.id)
    return list(db.session.scalars(query))


@pytest.mark.parametrize("who", ["tech", "alice"])
def test_not_for_anyone_but_admins(client, people, who) -> None:  # type: ignore[no-untyped-def]
    client.login(who)
    for page in PAGES:
        assert client.get(page).status_code == 403
    assert client.post("/admin/mail/relay", data={"host": "x"}).status_code == 403
    client.post("/logout")
    assert client.get("/admin/mail").status_code in (302, 401)


def test_relay_saved_encrypted_and_audited(client, people, desk) -> None:  # type: ignore[no-untyped-def]
    client.login("boss")
    assert client.get("/admin/mail").status_code == 200
    data = {"host": "smtp.example.org", "port": "587", "security": "starttls",
            "username": "desk", "password": "relay-secret-1", "from_address": DESK}  # fmt: skip
    assert client.post("/admin/mail/relay", data=data, csrf=False).status_code == 400  # no CSRF
    assert db.session.get(SmtpRelay, 1) is None
    response = client.post("/admin/mail/relay", data=data)
    assert response.status_code == 302
    relay = db.session.get(SmtpRelay, 1)
    assert relay.host == "smtp.example.org" and "relay-secret-1" not in relay.password_encrypted
    assert crypto.decrypt(relay.password_encrypted) == "relay-secret-1"
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "smtp.example.org" in page and "relay-secret-1" not in page
    data["password"] = ""  # empty keeps the stored one
    client.post("/admin/mail/relay", data=data)
    db.session.expire_all()
    assert crypto.decrypt(db.session.get(SmtpRelay, 1).password_encrypted) == "relay-secret-1"
    assert _actions() == ["mail.relay_saved", "mail.relay_saved"]
    bad = client.post("/admin/mail/relay", data={**data, "from_address": "not-an-address"})
    assert bad.status_code == 400 and "valid e-mail address" in bad.get_data(as_text=True)


def test_relay_test_connection(client, people, desk) -> None:  # type: ignore[no-untyped-def]
    server = SmtpServer().start()
    try:
        client.login("boss")
        client.post("/admin/mail/relay", data={"host": "127.0.0.1", "port": str(server.port),
                    "security": "plain", "from_address": DESK})  # fmt: skip
        ok = client.post("/admin/mail/relay/test", follow_redirects=True)
        assert "accepted the connection" in ok.get_data(as_text=True)
    finally:
        server.stop()
    down = client.post("/admin/mail/relay/test", follow_redirects=True)
    assert "did not answer" in down.get_data(as_text=True)


def test_mailbox_pages_with_a_real_imap_server(client, people, dovecot, category) -> None:  # type: ignore[no-untyped-def]
    client.login("boss")
    form = {"name": "Support", "address": DESK, "host": "127.0.0.1", "port": str(dovecot.port),
            "security": "plain", "username": "desk", "password": "desk-password",
            "folder": "INBOX", "category_id": str(category.id), "active": "y"}  # fmt: skip
    assert client.post("/admin/mail/mailboxes/new", data=form).status_code == 302
    box = db.session.scalar(select(Mailbox))
    assert box.category_id == category.id and "desk-password" not in box.password_encrypted
    edit = client.get(f"/admin/mail/mailboxes/{box.id}").get_data(as_text=True)
    assert "desk-password" not in edit and "Support" in edit
    ok = client.post(f"/admin/mail/mailboxes/{box.id}/test", follow_redirects=True)
    assert "can be read" in ok.get_data(as_text=True)
    client.post(f"/admin/mail/mailboxes/{box.id}", data={**form, "password": "wrong"})
    bad = client.post(f"/admin/mail/mailboxes/{box.id}/test", follow_redirects=True)
    assert "could not be opened" in bad.get_data(as_text=True)
    dup = client.post("/admin/mail/mailboxes/new", data=form)
    assert dup.status_code == 400 and "already exists" in dup.get_data(as_text=True)
    assert client.post(f"/admin/mail/mailboxes/{box.id}/delete", csrf=False).status_code == 400
    assert client.post(f"/admin/mail/mailboxes/{box.id}/delete").status_code == 302
    assert db.session.scalar(select(Mailbox)) is None
    assert _actions() == ["mail.mailbox_saved", "mail.mailbox_saved", "mail.mailbox_deleted"]


def test_outbox_retry_and_last_errors_shown(client, people, ingest, desk) -> None:  # type: ignore[no-untyped-def]
    ingest(message("carla@example.org"))
    row = db.session.scalar(select(Outbox))
    row.status, row.last_error = OutboxStatus.FAILED, "SMTPRecipientsRefused: 550 no such user"
    db.session.commit()
    client.login("boss")
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "550 no such user" in page and "carla@example.org" in page
    assert client.post(f"/admin/mail/outbox/{row.id}/retry").status_code == 302
    db.session.expire_all()
    again = db.session.get(Outbox, row.id)
    assert again.status == OutboxStatus.QUEUED and again.attempts == 0
    assert _actions() == ["mail.outbox_retry"]


def test_quarantine_and_originals(client, people, ingest, desk) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_MAX_MESSAGE_MB"] = 1
    huge = message(subject="too big", body="x" * (1024 * 1024 + 1))
    ingest(huge)
    raw = (CORPUS / "plain-utf8.eml").read_bytes()
    result = ingest(raw)
    original = db.session.scalar(
        select(MailMessage).where(
            MailMessage.ticket_id == result.ticket_id, MailMessage.direction == Direction.IN
        )
    )
    kept = db.session.scalar(select(Quarantine))
    client.login("boss")
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "too big" in page
    got = client.get(f"/admin/mail/quarantine/{kept.id}.eml")
    assert got.status_code == 200 and got.data == huge and got.mimetype == "message/rfc822"
    assert client.get(f"/mail/messages/{original.id}.eml").data == raw
    client.post("/logout")
    client.login("alice")  # not staff: the original is never theirs to read
    assert client.get(f"/mail/messages/{original.id}.eml").status_code == 404
    assert client.get(f"/admin/mail/quarantine/{kept.id}.eml").status_code == 403


def test_mail_preferences_in_the_profile(client, people) -> None:  # type: ignore[no-untyped-def]
    client.login("alice")
    assert "/account/mail" in client.get("/account/profile").get_data(as_text=True)
    assert client.get("/account/mail").status_code == 200
    assert client.post("/account/mail", data={"reply": "y"}, csrf=False).status_code == 400
    assert client.post("/account/mail", data={"reply": "y"}).status_code == 302
    pref = db.session.get(MailPreference, people["user"].id)
    assert (pref.created, pref.reply, pref.status) == (False, True, False)
    assert _actions() == ["mail.preferences_saved"]


def test_admin_page_in_spanish(client, people) -> None:  # type: ignore[no-untyped-def]
    client.login("boss")
    page = client.get("/admin/mail", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Buzones" in page and "Bandeja de salida" in page


def test_ticket_page_lists_the_original_to_staff_only(client, people, ingest) -> None:  # type: ignore[no-untyped-def]
    people["user"].email = "alice@example.org"
    db.session.commit()
    result = ingest(message("alice@example.org", "Mailed in"))
    original = db.session.scalar(select(MailMessage).where(MailMessage.direction == Direction.IN))
    link = f"/mail/messages/{original.id}.eml"
    client.login("alice")  # the requester: her ticket, but not the original
    page = client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "Mailed in" in page and link not in page
    client.post("/logout")
    client.login("boss")
    assert link in client.get(f"/tickets/{result.ticket_id}").get_data(as_text=True)
