"""Mail fetched from a real IMAP server (Debian's dovecot on loopback), one pass
at a time: tickets, threading, duplicates, noise, a bad message that does not
block the mailbox, and errors kept on the mailbox."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.mail import fetch, rules
from helpdesk.mail.models import Mailbox, Quarantine
from helpdesk.tickets.models import Comment, Ticket
from tests.mail.conftest import CORPUS, DESK, message


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _fetch(box) -> fetch.FetchReport:  # type: ignore[no-untyped-def]
    [report] = fetch.fetch_all(box.name)
    db.session.expire_all()
    return report


def test_fetch_files_new_mail_and_threads_replies(dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    dovecot.append("desk", message("carla@example.org", "VPN down", message_id="vpn-1@example.org"))
    report = _fetch(mailbox)
    assert report.error is None and report.outcomes == {"ticket": 1}
    ticket = db.session.scalar(select(Ticket))
    assert ticket.title == "VPN down" and ticket.category_id == mailbox.category_id
    replies = [
        message("carla@example.org", "Re: x", "by header", headers="In-Reply-To: <vpn-1@example.org>\r\n"),
        message("carla@example.org", f"Re: [{ticket.number}]", "by number"),
        message("carla@example.org", "anything", "by token", to=rules.reply_address(DESK, ticket.id)),
    ]  # fmt: skip
    for raw in replies:
        dovecot.append("desk", raw)
    report = _fetch(mailbox)
    assert report.outcomes == {"comment": 3}
    bodies = sorted(db.session.scalars(select(Comment.body).where(Comment.ticket_id == ticket.id)))
    assert bodies == ["by header", "by number", "by token"]
    assert _fetch(mailbox).fetched == 0  # all flagged \Seen
    box = db.session.get(Mailbox, mailbox.id)
    assert box.last_fetch_at is not None and box.last_error is None


def test_duplicates_noise_and_bounces_make_nothing(dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    raw = message(message_id="twice@example.org")
    dovecot.append("desk", raw)
    dovecot.append("desk", raw)
    for name in ("auto-submitted-auto-replied.eml", "loop-other-desk.eml", "dsn-gmail.eml", "precedence-bulk.eml"):  # fmt: skip
        dovecot.append("desk", (CORPUS / name).read_bytes())
    report = _fetch(mailbox)
    assert report.outcomes == {"ticket": 1, "duplicate": 1, "ignored": 3, "bounce": 1}
    assert _count(Ticket) == 1


def test_a_bad_message_is_quarantined_and_the_rest_still_filed(dovecot, mailbox, desk) -> None:  # type: ignore[no-untyped-def]
    desk.config["MAIL_MAX_MESSAGE_MB"] = 1
    dovecot.append("desk", message(subject="before"))
    dovecot.append("desk", message(subject="huge", body="x" * (1024 * 1024 + 10)))
    dovecot.append("desk", message(subject="after"))
    report = _fetch(mailbox)
    assert report.outcomes == {"ticket": 2, "quarantined": 1}
    assert sorted(db.session.scalars(select(Ticket.title))) == ["after", "before"]
    kept = db.session.scalar(select(Quarantine))
    assert kept.mailbox_id == mailbox.id and kept.subject == "huge"
    assert _fetch(mailbox).fetched == 0


def test_errors_are_kept_on_the_mailbox(dovecot, mailbox, desk) -> None:  # type: ignore[no-untyped-def]
    from helpdesk.mail import mailboxes

    mailboxes.save_mailbox(None, mailbox.id, name="Support", address=DESK, host="127.0.0.1",
                           port=dovecot.port, security="plain", username="desk",
                           password="wrong-password")  # fmt: skip
    db.session.commit()
    result = desk.test_cli_runner().invoke(args=["mail-fetch", "--mailbox", "Support"])
    assert result.exit_code == 1
    box = db.session.get(Mailbox, mailbox.id)
    db.session.refresh(box)
    assert "cannot connect" in box.last_error and box.last_fetch_at is not None
    assert fetch.check_connection(box) is not None
    assert fetch.check_connection(box, "desk-password") is None


def test_mail_fetch_command(dovecot, mailbox, desk) -> None:  # type: ignore[no-untyped-def]
    dovecot.append("desk", message(subject="from cron"))
    result = desk.test_cli_runner().invoke(args=["mail-fetch"])
    assert result.exit_code == 0, result.output
    assert "Support: 1 fetched (ticket 1)" in result.output
    missing = desk.test_cli_runner().invoke(args=["mail-fetch", "--mailbox", "Nope"])
    assert missing.exit_code != 0 and "No mailbox named Nope" in missing.output


def test_stored_password_is_encrypted(mailbox) -> None:  # type: ignore[no-untyped-def]
    from helpdesk.mail import crypto

    assert "desk-password" not in mailbox.password_encrypted
    assert crypto.decrypt(mailbox.password_encrypted) == "desk-password"


def test_worker_fetches_files_and_answers(database, tmp_path, worker_process) -> None:  # type: ignore[no-untyped-def]
    """Through a real `helpdesk worker`: the fetch task files the mail, the commit
    enqueues the receipt, the send task delivers it to the relay."""
    from helpdesk.mail import mailboxes, tasks
    from helpdesk.tickets.services import create_category
    from tests.conftest import make_app, wait_for
    from tests.mail.conftest import SmtpServer, configure_relay
    from tests.mail.dovecot import Dovecot

    app = make_app(database, tmp_path, MAIL_FROM=DESK)
    imap = Dovecot({"desk": "desk-password"}).start()
    smtp = SmtpServer().start()
    try:
        with app.app_context():
            db.create_all()
            create_category(None, "General")
            configure_relay(smtp.port)
            box = mailboxes.save_mailbox(None, name="Support", address=DESK, host="127.0.0.1",
                                         port=imap.port, security="plain", username="desk",
                                         password="desk-password")  # fmt: skip
            db.session.commit()
            imap.append("desk", message("carla@example.org", "Through the worker"))
            worker_process(app, env={"MAIL_FROM": DESK})
            tasks.fetch_mailbox(box.id)  # what the minute's periodic task enqueues

            def ticket() -> Ticket | None:
                db.session.rollback()
                return db.session.scalar(select(Ticket))

            found = wait_for(ticket, "the ticket filed by the worker")
            assert found.title == "Through the worker"
            wait_for(lambda: smtp.handler.envelopes, "the receipt sent by the worker")
            [receipt] = smtp.handler.messages()
            assert receipt["To"] == "carla@example.org" and found.number in receipt["Subject"]
            db.session.remove()
            db.engine.dispose()
    finally:
        smtp.stop()
        imap.stop()


def test_sweep_enqueues_what_is_due(ingest, desk, smtp) -> None:  # type: ignore[no-untyped-def]
    """The minute sweep sends what the queue lost (run inline: JOBS_BACKEND immediate)."""
    from helpdesk.jobs import init_app
    from helpdesk.mail import tasks
    from helpdesk.mail.models import Outbox, OutboxStatus

    ingest(message("carla@example.org"))  # its send task went to a queue nobody reads
    desk.config["JOBS_BACKEND"] = "immediate"
    init_app(desk)
    tasks.sweep_outbox.call_local()
    db.session.expire_all()
    assert db.session.scalar(select(Outbox.status)) == OutboxStatus.SENT
    assert len(smtp.handler.envelopes) == 1
