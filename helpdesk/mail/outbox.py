"""Outgoing mail: outbox rows written in the transaction of the change they
announce, rendered in the recipient's language at the first attempt, sent by
smtplib with retries and back-off.

Service functions (flush, never commit): `queue`, `queue_refusal`,
`on_ticket_event` (the `signals.ticket_event` receiver), `send_one`,
`due_ids`, `retry`.  Internal notes never become mail: their events are
dropped before anything else, and a comment that is internal is refused again
when rendering.
"""

from __future__ import annotations

import functools
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from helpdesk.attachments.models import Attachment
from helpdesk.db import rowcount, utcnow
from helpdesk.extensions import db
from helpdesk.jobs import enqueue_after_commit
from helpdesk.mail import crypto, rules
from helpdesk.mail import settings as mail_settings
from helpdesk.mail.models import (
    Direction,
    Mailbox,
    MailMessage,
    MailPreference,
    Outbox,
    OutboxKind,
    OutboxStatus,
    Outcome,
    Security,
    SmtpRelay,
)
from helpdesk.mail.parser import id_key
from helpdesk.tickets.labels import status_label
from helpdesk.tickets.models import Comment, EventKind, Status, Ticket, TicketEvent
from helpdesk.tickets.permissions import can_view_ticket
from helpdesk.users.models import Role, User

CLAIM = timedelta(minutes=5)
SMTP_POLICY = policy.SMTP  # CRLF line ends, as the wire wants them
LOOP_HEADER = "X-Helpdesk-Loop"


@dataclass
class RelaySettings:
    host: str = ""
    port: int = 587
    security: Security = Security.STARTTLS
    username: str = ""
    password: str = ""
    from_address: str = ""


def relay_settings() -> RelaySettings:
    row = db.session.get(SmtpRelay, 1)
    if row is None:
        return RelaySettings(from_address=mail_settings.get("MAIL_FROM") or "")
    return RelaySettings(
        host=row.host,
        port=row.port,
        security=row.security,
        username=row.username,
        password=crypto.decrypt(row.password_encrypted),
        from_address=row.from_address or mail_settings.get("MAIL_FROM") or "",
    )


def desk_address() -> str:
    relay = db.session.get(SmtpRelay, 1)
    address = (relay.from_address if relay else "") or mail_settings.get("MAIL_FROM")
    if not address:
        address = db.session.scalar(select(Mailbox.address).order_by(Mailbox.id).limit(1))
    return address or "helpdesk@localhost"


def _domain() -> str:
    return desk_address().rpartition("@")[2] or "localhost"


# ---------------------------------------------------------------- queueing


def queue(
    kind: OutboxKind,
    *,
    to_address: str,
    recipient: User | None = None,
    ticket: Ticket | None = None,
    comment: Comment | None = None,
    subject: str = "",
    detail: str = "",
    in_reply_to: str = "",
) -> Outbox:
    """One outgoing mail, sent after commit; its Message-ID is stored for threading."""
    message_id = make_msgid(domain=_domain()).strip("<>")
    locale = (recipient.locale if recipient else None) or current_app.config.get(
        "BABEL_DEFAULT_LOCALE", "es"
    )
    row = Outbox(
        kind=kind,
        status=OutboxStatus.QUEUED,
        to_address=to_address[:254],
        recipient_id=recipient.id if recipient else None,
        ticket_id=ticket.id if ticket else None,
        comment_id=comment.id if comment else None,
        locale=locale,
        message_id=message_id,
        in_reply_to=in_reply_to[:255],
        subject=subject[:255],
        detail=detail,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    db.session.add(
        MailMessage(
            key=id_key(message_id),
            message_id=message_id,
            direction=Direction.OUT,
            outcome=Outcome.SENT,
            sender=desk_address()[:254],
            subject=subject[:255],
            ticket_id=ticket.id if ticket else None,
            comment_id=comment.id if comment else None,
        )
    )
    db.session.flush()
    _wake(row.id)
    return row


# Set by helpdesk.mail.tasks when it is imported (the worker registry imports it in
# every process): the send task, handed each new row once it is committed.
send_task: list[Any] = []


def _wake(outbox_id: int) -> None:
    """Hand the row to the send task once it is committed (the sweep if that fails)."""
    for task in send_task:
        enqueue_after_commit(task, outbox_id)


def queue_refusal(
    *, to_address: str, subject: str, reason_key: str, detail: str = "", in_reply_to: str = ""
) -> Outbox | None:
    if not to_address:
        return None
    return queue(
        OutboxKind.REFUSAL,
        to_address=to_address,
        subject=subject,
        detail=f"{reason_key}\n{detail}".strip(),
        in_reply_to=in_reply_to,
    )


def preferences(user: User) -> MailPreference:
    return db.session.get(MailPreference, user.id) or MailPreference(
        user_id=user.id, created=True, reply=True, status=True, assigned=True, queue=True
    )


def on_ticket_event(ticket: Ticket, *, event: TicketEvent, actor: User, **_kw: Any) -> None:
    """Receiver of `signals.ticket_event`: outbox rows in the same transaction."""
    if event.internal or event.kind == EventKind.NOTE:
        return  # internal notes and their files never reach anyone by mail
    wanted: list[tuple[User | None, OutboxKind]] = []
    if event.kind == EventKind.CREATED:
        wanted.append((ticket.requester, OutboxKind.CREATED))
        if ticket.assignee_id is None:
            technicians = db.session.scalars(
                select(User).where(User.role == Role.TECHNICIAN, User.active.is_(True))
            )
            wanted += [(t, OutboxKind.QUEUE) for t in technicians]
    elif event.kind == EventKind.COMMENT and event.comment is not None:
        wanted += [(ticket.requester, OutboxKind.REPLY), (ticket.assignee, OutboxKind.REPLY)]
    elif event.kind == EventKind.STATUS and event.new_value in (Status.RESOLVED, Status.CLOSED):
        wanted.append((ticket.requester, OutboxKind.STATUS))
    elif event.kind == EventKind.ASSIGNED:
        wanted.append((ticket.assignee, OutboxKind.ASSIGNED))
    own = {desk_address().lower()}
    seen: set[int] = set()
    for person, kind in wanted:
        if person is None or person.id in seen or not person.active or not person.email:
            continue
        if person.id == actor.id and kind != OutboxKind.CREATED:
            continue  # nobody is told by mail what they just did (but gets the receipt)
        if person.email.lower() in own or not can_view_ticket(person, ticket):
            continue
        if not getattr(preferences(person), kind.value):
            continue
        seen.add(person.id)
        queue(
            kind,
            to_address=person.email,
            recipient=person,
            ticket=ticket,
            comment=event.comment if kind == OutboxKind.REPLY else None,
            subject=ticket.title,
        )


# ---------------------------------------------------------------- rendering


def _link(path: str) -> str:
    return str(mail_settings.get("MAIL_BASE_URL")).rstrip("/") + path


def _thread_ids(row: Outbox) -> list[str]:
    if row.ticket_id is None:
        return [row.in_reply_to] if row.in_reply_to else []
    ids = db.session.scalars(
        select(MailMessage.message_id)
        .where(MailMessage.ticket_id == row.ticket_id, MailMessage.message_id != row.message_id)
        .order_by(MailMessage.id.desc())
        .limit(20)
    )
    return [i for i in reversed(list(ids)) if i]


def _content(row: Outbox, ticket: Ticket | None) -> dict[str, Any]:
    """Subject and paragraphs, in the current (recipient's) locale."""
    number = ticket.number if ticket else ""
    lines: list[str] = []
    quote_text = quote_html = ""
    files: list[tuple[str, str]] = []
    if row.kind == OutboxKind.CREATED and ticket:
        subject = _("We received your request")
        lines = [
            _(
                "Your ticket %(number)s has been created: %(title)s",
                number=number,
                title=ticket.title,
            ),  # fmt: skip
            _("Reply to this message to add to it."),
        ]
    elif row.kind == OutboxKind.REPLY and ticket:
        comment = db.session.get(Comment, row.comment_id) if row.comment_id else None
        if comment is None or comment.internal:
            raise LookupError("the comment is gone or internal; nothing to send")
        subject = _("New reply")
        lines = [_("%(who)s wrote:", who=comment.author.display_name)]
        quote_text, quote_html = comment.body, comment.body_html
        files = [
            (a.original_name, _link(f"/attachments/{a.id}"))
            for a in db.session.scalars(
                select(Attachment).where(
                    Attachment.comment_id == comment.id, Attachment.internal.is_(False)
                )
            )
        ]
    elif row.kind == OutboxKind.STATUS and ticket:
        subject = _("Status changed")
        lines = [
            _(
                "Ticket %(number)s is now %(status)s.",
                number=number,
                status=status_label(ticket.status),
            )
        ]
    elif row.kind == OutboxKind.ASSIGNED and ticket:
        subject = _("Assigned to you")
        lines = [_("Ticket %(number)s was assigned to you: %(title)s", number=number, title=ticket.title)]  # fmt: skip
    elif row.kind == OutboxKind.QUEUE and ticket:
        subject = _("New ticket in the queue")
        lines = [_("A new unassigned ticket %(number)s: %(title)s", number=number, title=ticket.title)]  # fmt: skip
    elif row.kind == OutboxKind.REFUSAL:
        reason, _sep, names = row.detail.partition("\n")
        subject = _("Your message was not accepted")
        if reason == "refused_files":
            subject = _("Some files were not accepted")
            lines = [
                _(
                    "These files were not attached (allowed: images, PDF, office documents, ZIP or plain text, up to %(mb)s MB each):",
                    mb=current_app.config["MAX_UPLOAD_MB"],
                ),
                *[f"- {n}" for n in names.splitlines() if n],
                _("Your message itself was received."),
            ]
        else:
            lines = [
                _("This help desk only accepts messages from registered addresses."),
                _("Please contact your administrator or use the web page."),
            ]
    else:
        subject = _("Test message")
        lines = [_("This is a test message from the help desk. Mail sending works.")]
    link = ""
    if ticket is not None:
        link = _("Open the ticket: %(url)s", url=_link(f"/tickets/{ticket.id}"))
        subject = f"[{number}] {subject}: {ticket.title}"
    elif row.subject and row.kind == OutboxKind.REFUSAL:
        subject = f"{subject}: {row.subject}"
    return {
        "subject": subject[:250],
        "lines": lines,
        "quote_text": quote_text,
        "quote_html": quote_html,
        "files": files,
        "files_label": _("Files"),
        "link": link,
        "lang": row.locale,
    }


def render(row: Outbox) -> EmailMessage:
    ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    with force_locale(row.locale):
        content = _content(row, ticket)
        env = current_app.jinja_env
        text = env.get_template("mail/message.txt").render(**content)
        html = env.get_template("mail/message.html").render(**content)
    message = EmailMessage()
    sender = desk_address()
    message["From"] = formataddr(("Helpdesk", sender))
    message["To"] = row.to_address
    message["Subject"] = content["subject"]
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{row.message_id}>"
    thread = _thread_ids(row)
    if thread:
        message["In-Reply-To"] = f"<{row.in_reply_to or thread[-1]}>"
        message["References"] = " ".join(f"<{i}>" for i in thread[-10:])
    if ticket is not None:
        message["Reply-To"] = rules.reply_address(sender, ticket.id)
    auto = "auto-replied" if row.kind in (OutboxKind.CREATED, OutboxKind.REFUSAL) else "auto-generated"  # fmt: skip
    message["Auto-Submitted"] = auto
    message["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office back to us
    message[LOOP_HEADER] = _domain()
    # quoted-printable: 7-bit clean for any relay, no 8BITMIME needed
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


# ---------------------------------------------------------------- sending


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 240))


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """Built once: loading the system's CA store costs more than sending a message."""
    return ssl.create_default_context()


def connect(relay: RelaySettings) -> smtplib.SMTP:
    if not relay.host:
        raise smtplib.SMTPException("no SMTP relay is configured (Admin → Mail)")
    timeout = int(mail_settings.get("MAIL_SMTP_TIMEOUT"))
    smtp: smtplib.SMTP
    if relay.security == Security.TLS:
        smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=timeout, context=tls_context())
    else:
        smtp = smtplib.SMTP(relay.host, relay.port, timeout=timeout)
        if relay.security == Security.STARTTLS:
            smtp.starttls(context=tls_context())
    if relay.username:
        smtp.login(relay.username, relay.password)
    return smtp


def check_relay(relay: RelaySettings | None = None) -> str | None:
    """None when the relay accepts a connection (and the login), else why not."""
    try:
        smtp = connect(relay or relay_settings())
        try:
            smtp.noop()
        finally:
            smtp.quit()
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def due_ids(limit: int = 200) -> list[int]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(Outbox.id)
            .where(Outbox.status == OutboxStatus.QUEUED, Outbox.next_attempt_at <= now)
            .order_by(Outbox.id)
            .limit(limit)
        )
    )


def send_one(outbox_id: int, *, smtp: smtplib.SMTP | None = None) -> bool:
    """Send one queued row if it is due and nobody else holds it; True if sent.

    The conditional UPDATE claims the row (and holds its lock until the caller
    commits), so two workers never both send it.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(Outbox)
        .where(
            Outbox.id == outbox_id,
            Outbox.status == OutboxStatus.QUEUED,
            Outbox.next_attempt_at <= now,
            (Outbox.claimed_until.is_(None)) | (Outbox.claimed_until < now),
        )
        .values(claimed_until=now + CLAIM)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        return False
    row = db.session.get(Outbox, outbox_id)
    assert row is not None
    db.session.refresh(row)
    row.attempts += 1
    try:
        if row.raw is None:
            row.raw = render(row).as_bytes(policy=SMTP_POLICY).decode("ascii")
    except Exception as exc:  # noqa: BLE001  a message we cannot build is never retried
        row.status, row.last_error = OutboxStatus.FAILED, f"cannot render: {exc}"[:500]
        db.session.flush()
        return False
    try:
        own = smtp is None
        connection = connect(relay_settings()) if own else smtp
        assert connection is not None
        try:
            connection.sendmail(desk_address(), [row.to_address], row.raw.encode("ascii"))
        finally:
            if own:
                try:
                    connection.quit()
                except (smtplib.SMTPException, OSError):
                    connection.close()
    except (smtplib.SMTPException, OSError) as exc:
        permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) or (
            isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
        )
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        row.claimed_until = None
        if permanent or row.attempts >= int(mail_settings.get("MAIL_SEND_ATTEMPTS")):
            row.status = OutboxStatus.FAILED
        else:
            row.next_attempt_at = utcnow() + _backoff(row.attempts)
        db.session.flush()
        return False
    row.status, row.sent_at, row.last_error, row.claimed_until = (
        OutboxStatus.SENT,
        utcnow(),
        None,
        None,
    )
    db.session.flush()
    return True


def retry(outbox_id: int) -> Outbox:
    """Put a failed or bounced row back in the queue (an admin asked)."""
    row = db.session.get(Outbox, outbox_id)
    if row is None:
        from helpdesk.errors import NotFound

        raise NotFound("No such message.")
    if row.status in (OutboxStatus.FAILED, OutboxStatus.BOUNCED):
        row.status, row.attempts, row.next_attempt_at = OutboxStatus.QUEUED, 0, utcnow()
        row.claimed_until = None
        db.session.flush()
        _wake(outbox_id)
    return row
