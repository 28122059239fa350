"""Outgoing mail through a real SMTP server (aiosmtpd on loopback): every event's
message, its headers and language, preferences, retries, and the round trip."""

from __future__ import annotations

import io

from sqlalchemy import select

from helpdesk.attachments.services import Upload
from helpdesk.extensions import db
from helpdesk.mail import rules
from helpdesk.mail.models import MailPreference, Outbox, OutboxKind, OutboxStatus
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Comment, Status, Ticket
from helpdesk.transaction import unit_of_work
from tests.mail.conftest import DESK, SmtpServer, configure_relay, free_port, message


def _to(smtp, address):  # type: ignore[no-untyped-def]
    return [m for m in smtp.handler.messages() if m["To"] == address]


def _text(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(("plain",)).get_content()


def _html(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(("html",)).get_content()


def test_receipt_for_a_mailed_ticket(ingest, smtp, send_all) -> None:  # type: ignore[no-untyped-def]
    result = ingest(message("carla@example.org", "Printer", message_id="first@example.org"))
    assert send_all() == 1
    [receipt] = _to(smtp, "carla@example.org")
    ticket = db.session.get(Ticket, result.ticket_id)
    assert receipt["Subject"].startswith(f"[{ticket.number}]")
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["In-Reply-To"] == "<first@example.org>"
    assert "<first@example.org>" in receipt["References"]
    assert receipt["Reply-To"] == rules.reply_address(DESK, ticket.id)
    row = db.session.scalar(select(Outbox).where(Outbox.ticket_id == ticket.id))
    assert receipt["Message-ID"] == f"<{row.message_id}>" and row.status == OutboxStatus.SENT
    # the desk's default language is Spanish; both parts say it
    assert "Su solicitud" in _text(receipt) or "ticket" in _text(receipt).lower()
    assert ticket.number in _text(receipt) and ticket.number in _html(receipt)
    assert f"https://desk.example/tickets/{ticket.id}" in _text(receipt)
    assert send_all() == 0  # nothing twice


def test_public_reply_is_mailed_and_internal_note_never(ingest, smtp, send_all, people) -> None:  # type: ignore[no-untyped-def]
    result = ingest(message("carla@example.org"))
    send_all()
    tech = people["tech"]
    ticket = db.session.get(Ticket, result.ticket_id)
    with unit_of_work():
        tickets.take_ticket(tech, ticket)
        tickets.add_comment(tech, ticket, "SECRET-NOTE the customer is difficult", internal=True,
                            uploads=[Upload("secret-plan.txt", io.BytesIO(b"plan"))])  # fmt: skip
        tickets.add_comment(tech, ticket, "Please **restart** it.",
                            uploads=[Upload("steps.txt", io.BytesIO(b"1. off 2. on"))])  # fmt: skip
    send_all()
    mails = _to(smtp, "carla@example.org")
    replies = [m for m in mails if "restart" in _text(m)]
    assert len(replies) == 1
    reply = replies[0]
    assert "<strong>restart</strong>" in _html(reply)
    attachment_id = db.session.scalar(
        select(Comment.id).where(Comment.internal.is_(False), Comment.author_id == tech.id)
    )
    assert attachment_id is not None
    assert "steps.txt" in _text(reply) and "https://desk.example/attachments/" in _text(reply)
    assert reply["Auto-Submitted"] == "auto-generated"
    assert not reply.get_content_type().startswith("multipart/mixed")  # files by link only
    # (the smtp fixture sweeps every captured message for the note and its file)


def test_every_event_reaches_the_right_person(ingest, smtp, send_all, people, desk) -> None:  # type: ignore[no-untyped-def]
    admin, tech = people["admin"], people["tech"]
    for person, address in ((admin, "boss@desk.example"), (tech, "tech@desk.example")):
        person.email = address
    people["tech2"].email = "tech2@desk.example"
    db.session.commit()
    result = ingest(message("carla@example.org"))
    send_all()
    assert len(_to(smtp, "tech@desk.example")) == 1  # new ticket in the unassigned queue
    assert len(_to(smtp, "tech2@desk.example")) == 1
    assert _to(smtp, "boss@desk.example") == []  # admins are not technicians
    ticket = db.session.get(Ticket, result.ticket_id)
    with unit_of_work():
        tickets.assign_ticket(admin, ticket, tech.id)
    send_all()
    assigned = _to(smtp, "tech@desk.example")[-1]
    assert ticket.number in assigned["Subject"] and assigned["Auto-Submitted"] == "auto-generated"
    with unit_of_work():
        tickets.change_status(tech, db.session.get(Ticket, ticket.id), Status.RESOLVED)
    send_all()
    status_mail = _to(smtp, "carla@example.org")[-1]
    assert ticket.number in _text(status_mail)
    kinds = [r.kind for r in db.session.scalars(select(Outbox).order_by(Outbox.id))]
    assert kinds == [OutboxKind.CREATED, OutboxKind.QUEUE, OutboxKind.QUEUE, OutboxKind.ASSIGNED, OutboxKind.STATUS]  # fmt: skip


def test_language_follows_the_recipient(ingest, smtp, send_all, people) -> None:  # type: ignore[no-untyped-def]
    result = ingest(message("carla@example.org"))
    ticket = db.session.get(Ticket, result.ticket_id)
    send_all()
    spanish = _text(_to(smtp, "carla@example.org")[-1])
    ticket.requester.locale = "en"
    db.session.commit()
    with unit_of_work():
        tickets.add_comment(people["admin"], db.session.get(Ticket, ticket.id), "Done.")
    send_all()
    english = _text(_to(smtp, "carla@example.org")[-1])
    assert "Open the ticket" in english and "Open the ticket" not in spanish
    assert "Abrir el ticket" in spanish


def test_preferences_turn_events_off(ingest, smtp, send_all, people) -> None:  # type: ignore[no-untyped-def]
    alice = people["user"]
    alice.email = "alice@example.org"
    db.session.add(MailPreference(user_id=alice.id, created=False, reply=True, status=False,
                                  assigned=True, queue=True))  # fmt: skip
    db.session.commit()
    ingest(message("alice@example.org"))
    assert send_all() == 0 and smtp.handler.envelopes == []


def test_round_trip_reply_from_the_mail_client(ingest, smtp, send_all, people) -> None:  # type: ignore[no-untyped-def]
    result = ingest(message("carla@example.org", "Scanner"))
    with unit_of_work():
        tickets.add_comment(people["admin"], db.session.get(Ticket, result.ticket_id), "Try now.")
    send_all()
    sent = [m for m in _to(smtp, "carla@example.org") if "Try now." in _text(m)][0]
    # the customer's client answers: To = Reply-To, In-Reply-To = our Message-ID,
    # a subject the client rewrote and the quoted mail below the new text
    quoted = "\n".join("> " + line for line in _text(sent).splitlines())
    answer = (
        f"From: carla@example.org\r\nTo: {sent['Reply-To']}\r\nSubject: AW: something\r\n"
        f"Message-ID: <answer@example.org>\r\nIn-Reply-To: {sent['Message-ID']}\r\n"
        f"References: {sent['References'] or ''} {sent['Message-ID']}\r\n\r\n"
        f"It works now, thanks.\r\n\r\nOn Tue, Helpdesk wrote:\r\n{quoted}\r\n"
    ).encode()
    back = ingest(answer)
    assert back.ticket_id == result.ticket_id
    assert db.session.get(Comment, back.comment_id).body == "It works now, thanks."


def test_retry_when_the_relay_is_down_then_up(ingest, desk, send_all) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    configure_relay(port)  # nothing listens yet
    ingest(message("carla@example.org"))
    assert send_all() == 0
    row = db.session.scalar(select(Outbox))
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > row.created_at  # backed off
    server = SmtpServer(port).start()
    try:
        assert send_all() == 0  # not due yet
        row.next_attempt_at = row.created_at
        db.session.commit()
        assert send_all() == 1
        assert send_all() == 0
        assert len(server.handler.envelopes) == 1
        db.session.expire_all()
        assert db.session.get(Outbox, row.id).status == OutboxStatus.SENT
    finally:
        server.stop()


def test_gives_up_after_the_last_attempt(ingest, desk, send_all) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_SEND_ATTEMPTS"] = 2
    configure_relay(free_port())
    ingest(message("carla@example.org"))
    for _ in range(2):
        db.session.execute(Outbox.__table__.update().values(next_attempt_at=Outbox.created_at))
        db.session.commit()
        send_all()
    assert db.session.scalar(select(Outbox.status)) == OutboxStatus.FAILED


def test_mail_test_command(smtp, desk) -> None:  # type: ignore[no-untyped-def]
    result = desk.test_cli_runner().invoke(args=["mail-test", "--to", "me@example.org"])
    assert result.exit_code == 0, result.output
    [sent] = smtp.handler.messages()
    assert sent["To"] == "me@example.org" and sent["Auto-Submitted"]


def test_mail_test_command_names_the_problem(desk) -> None:  # type: ignore[no-untyped-def]
    configure_relay(free_port())
    result = desk.test_cli_runner().invoke(args=["mail-test", "--to", "me@example.org"])
    assert result.exit_code != 0 and "Could not send" in result.output
