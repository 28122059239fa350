"""Inbound rules: threading by the three mechanisms (never by subject text),
strangers, closed tickets, unknown senders, duplicates, loops, rate limit, bounces."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.mail import outbox, rules
from helpdesk.mail.models import MailMessage, Outbox, OutboxKind, OutboxStatus, Outcome
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Comment, Status, Ticket
from helpdesk.transaction import unit_of_work
from helpdesk.users.models import Role, User
from tests.mail.conftest import CORPUS, DESK, message


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_new_sender_gets_an_account_and_a_ticket(ingest) -> None:  # type: ignore[no-untyped-def]
    result = ingest(message("Carla Ruiz <Carla@Example.org>", "Printer", "It jams."))
    assert result.outcome == Outcome.TICKET
    ticket = db.session.get(Ticket, result.ticket_id)
    user = ticket.requester
    assert user.email == "carla@example.org" and user.role == Role.USER
    assert user.full_name == "Carla Ruiz"
    assert ticket.title == "Printer" and ticket.description == "It jams."
    # no password anyone knows: signing in with an empty or guessed one fails
    from helpdesk.security.passwords import verify_password

    assert not verify_password(user.password_hash, "")


def test_known_sender_files_under_their_account(ingest, people) -> None:  # type: ignore[no-untyped-def]
    alice = people["user"]
    alice.email = "alice@example.org"
    db.session.commit()
    result = ingest(message("ALICE@example.org"))
    assert db.session.get(Ticket, result.ticket_id).requester_id == alice.id
    assert _count(User) == 5


def test_duplicate_delivery_makes_nothing_twice(ingest) -> None:  # type: ignore[no-untyped-def]
    raw = message(message_id="once@example.org")
    assert ingest(raw).outcome == Outcome.TICKET
    assert ingest(raw).outcome is None
    reply = message(subject="Re: x", message_id="reply-once@example.org", headers="In-Reply-To: <once@example.org>\r\n")  # fmt: skip
    assert ingest(reply).outcome == Outcome.COMMENT
    assert ingest(reply).outcome is None
    assert _count(Ticket) == 1 and _count(Comment) == 1


def test_reply_threads_by_in_reply_to(ingest) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message(message_id="thread-1@example.org"))
    reply = ingest(
        message(
            subject="Something else entirely",
            body="More detail.\n\nOn Mon, X wrote:\n> old",
            headers="In-Reply-To: <thread-1@example.org>\r\nReferences: <thread-1@example.org>\r\n",
        )
    )
    assert reply.outcome == Outcome.COMMENT and reply.ticket_id == first.ticket_id
    assert db.session.get(Comment, reply.comment_id).body == "More detail."


def test_reply_to_our_own_message_id_threads(ingest, people) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message())
    ack = db.session.scalar(select(Outbox).where(Outbox.kind == OutboxKind.CREATED))
    assert ack is not None and ack.ticket_id == first.ticket_id
    reply = ingest(message(subject="Re:", headers=f"References: <{ack.message_id}>\r\n"))
    assert reply.ticket_id == first.ticket_id


def test_reply_threads_by_number_in_subject(ingest) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message())
    number = db.session.get(Ticket, first.ticket_id).number
    reply = ingest(message(subject=f"Re: [{number}] Printer on fire", body="Still burning."))
    assert reply.outcome == Outcome.COMMENT and reply.ticket_id == first.ticket_id


def test_reply_threads_by_reply_token(ingest) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message())
    address = rules.reply_address(DESK, first.ticket_id)
    assert address.startswith("soporte+t.")
    reply = ingest(message(subject="no number here", to=address))
    assert reply.ticket_id == first.ticket_id
    forged = address[:-20] + "000000000000@desk.example"
    assert ingest(message(subject="forged", to=forged)).outcome == Outcome.TICKET
    assert _count(Ticket) == 2


def test_subject_text_alone_never_threads(ingest) -> None:  # type: ignore[no-untyped-def]
    ingest(message(subject="Printer on fire"))
    again = ingest(message(subject="Re: Printer on fire"))
    assert again.outcome == Outcome.TICKET and _count(Ticket) == 2


def test_stranger_never_lands_on_a_ticket(ingest) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message("carla@example.org", message_id="carla-1@example.org"))
    number = db.session.get(Ticket, first.ticket_id).number
    for raw in (
        message("mallory@example.org", subject=f"[{number}] mine now"),
        message("mallory@example.org", headers="In-Reply-To: <carla-1@example.org>\r\n"),
        message("mallory@example.org", to=rules.reply_address(DESK, first.ticket_id)),
    ):
        result = ingest(raw)
        assert result.outcome == Outcome.TICKET and result.ticket_id != first.ticket_id
    assert _count(Comment) == 0


def test_staff_reply_by_mail_is_a_public_comment(ingest, people) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message())
    tech = people["tech"]
    tech.email = "tech@desk.example"
    db.session.commit()
    with unit_of_work():
        tickets.take_ticket(tech, db.session.get(Ticket, first.ticket_id))
    number = db.session.get(Ticket, first.ticket_id).number
    reply = ingest(message("tech@desk.example", subject=f"[{number}]", body="Replace the fuser."))
    comment = db.session.get(Comment, reply.comment_id)
    assert comment.author_id == tech.id and not comment.internal


def test_reply_to_closed_ticket_starts_a_linked_ticket(ingest) -> None:  # type: ignore[no-untyped-def]
    first = ingest(message())
    ticket = db.session.get(Ticket, first.ticket_id)
    with unit_of_work():
        tickets.change_status(ticket.requester, ticket, Status.CLOSED)
    reply = ingest(message(subject=f"[{ticket.number}] again", body="It is back."))
    assert reply.outcome == Outcome.TICKET and reply.ticket_id != ticket.id
    new = db.session.get(Ticket, reply.ticket_id)
    assert ticket.number in new.description and "It is back." in new.description
    assert db.session.get(Ticket, ticket.id).status == Status.CLOSED


def test_reply_to_closed_ticket_reopens_by_setting(ingest, desk) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_CLOSED_REPLY"] = "reopen"
    first = ingest(message())
    ticket = db.session.get(Ticket, first.ticket_id)
    with unit_of_work():
        tickets.change_status(ticket.requester, ticket, Status.CLOSED)
    reply = ingest(message(subject=f"[{ticket.number}] again", body="It is back."))
    assert reply.outcome == Outcome.COMMENT and reply.ticket_id == ticket.id
    assert db.session.get(Ticket, ticket.id).status == Status.OPEN


def test_unknown_sender_refused_by_setting(ingest, desk) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_UNKNOWN_SENDERS"] = "refuse"
    result = ingest(message("nobody@example.org", message_id="refuse-me@example.org"))
    assert result.outcome == Outcome.REFUSED and _count(Ticket) == 0
    assert db.session.scalar(select(User).where(User.email == "nobody@example.org")) is None
    answer = db.session.scalar(select(Outbox).where(Outbox.kind == OutboxKind.REFUSAL))
    assert answer.to_address == "nobody@example.org"
    assert answer.in_reply_to == "refuse-me@example.org"


def test_loops_and_automatic_mail_make_nothing(ingest) -> None:  # type: ignore[no-untyped-def]
    for name in ("loop-other-desk.eml", "loop-own-address.eml", "auto-submitted-auto-replied.eml"):
        assert ingest((CORPUS / name).read_bytes()).outcome == Outcome.IGNORED
    assert _count(Ticket) == 0 and _count(Outbox) == 0


def test_sender_rate_limit(ingest, desk) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_SENDER_LIMIT_PER_HOUR"] = 3
    outcomes = [ingest(message("runaway@example.org")).outcome for _ in range(5)]
    assert outcomes == [Outcome.TICKET] * 3 + [Outcome.REFUSED] * 2
    assert _count(Ticket) == 3
    assert ingest(message("calm@example.org")).outcome == Outcome.TICKET


def test_bounce_is_recorded_on_the_message_that_bounced(ingest, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work():
        row = outbox.queue(OutboxKind.TEST, to_address="gone@example.org", subject="t")
    raw = (
        (CORPUS / "dsn-postfix.eml")
        .read_bytes()
        .replace(b"outbound-unknown-dsn-postfix@desk.example", row.message_id.encode())
    )
    result = ingest(raw)
    assert result.outcome == Outcome.BOUNCE
    bounced = db.session.get(Outbox, row.id)
    assert bounced.status == OutboxStatus.BOUNCED and "5.1.1" in bounced.last_error
    assert _count(Ticket) == 0
    assert db.session.scalar(select(MailMessage.outcome).where(MailMessage.sender.like("mailer-daemon%"))) == Outcome.BOUNCE  # fmt: skip


def test_mail_ingest_command(desk, people) -> None:  # type: ignore[no-untyped-def]
    runner = desk.test_cli_runner()
    result = runner.invoke(args=["mail-ingest"], input=message(message_id="cli@example.org"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ticket")
    again = runner.invoke(args=["mail-ingest"], input=message(message_id="cli@example.org"))
    assert again.exit_code == 0 and again.output.startswith("duplicate")
    empty = runner.invoke(args=["mail-ingest"], input=b"")
    assert empty.exit_code != 0 and "No message" in empty.output
    assert _count(Ticket) == 1


def test_unparseable_message_is_quarantined(ingest, desk) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_MAX_MESSAGE_MB"] = 1
    from helpdesk.mail.models import Quarantine
    from helpdesk.mail.services import stored_path

    raw = message(body="x" * (2 * 1024 * 1024))
    assert ingest(raw).outcome == Outcome.QUARANTINED
    kept = db.session.scalar(select(Quarantine))
    assert stored_path(kept.stored_name).read_bytes() == raw
