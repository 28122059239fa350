"""Inbound mail: one message in, a ticket, a reply, a recorded refusal or a
quarantined original out — never a crash, never a message lost or taken twice.

Tickets and comments are made only through the ticket services, as the
sender's own account, so every permission and timeline rule is the web's.
The caller (mail-ingest, the fetch task) wraps each message in one
`unit_of_work()`.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.attachments.services import Upload, screen_file
from helpdesk.db import after_rollback, utcnow
from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.mail import outbox, rules
from helpdesk.mail import settings as mail_settings
from helpdesk.mail.models import (
    Direction,
    Mailbox,
    MailMessage,
    Outbox,
    OutboxStatus,
    Outcome,
    Quarantine,
)
from helpdesk.mail.parser import MAX_TEXT, MailFile, ParsedMail, id_key, parse
from helpdesk.tickets import permissions as ticket_perm

# Through the module path that keeps its re-exports while the house work splits it.
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Category, Status, Ticket
from helpdesk.users import services as users
from helpdesk.users.models import User

log = logging.getLogger(__name__)


@dataclass
class Result:
    outcome: Outcome | None  # None: a duplicate, nothing done
    reason: str = ""
    ticket_id: int | None = None
    comment_id: int | None = None


# ---------------------------------------------------------------- storage


def mail_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "mail"


def keep_original(raw: bytes) -> str:
    """The original bytes under a random name (removed again if the unit rolls back)."""
    name = secrets.token_hex(20)
    path = mail_dir() / name[:2] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    after_rollback(db.session, lambda: path.unlink(missing_ok=True))
    return name


def stored_path(stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{40}", stored_name or ""):
        raise ValueError("not a stored mail name")
    return mail_dir() / stored_name[:2] / stored_name


def quarantine(raw: bytes, reason: str, *, mailbox_id: int | None = None) -> Quarantine:
    """Keep a message we cannot handle, whole, for staff; the mailbox moves on."""
    sender = subject = ""
    head = raw[:65536].decode("utf-8", "replace")
    found = re.search(r"(?im)^From:[ \t]*(.{0,250})$", head)
    sender = found.group(1).strip()[:254] if found else ""
    found = re.search(r"(?im)^Subject:[ \t]*(.{0,250})$", head)
    subject = found.group(1).strip()[:255] if found else ""
    row = Quarantine(
        mailbox_id=mailbox_id,
        reason=reason[:500],
        sender=sender,
        subject=subject,
        stored_name=keep_original(raw),
        size=len(raw),
    )
    db.session.add(row)
    db.session.flush()
    return row


# ---------------------------------------------------------------- addresses


def own_addresses() -> set[str]:
    found = {a.lower() for a in db.session.scalars(select(Mailbox.address)) if a}
    relay = outbox.relay_settings()
    for address in (relay.from_address, mail_settings.get("MAIL_FROM")):
        if address:
            found.add(address.lower())
    return found


def _find_user(address: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == address.lower()))


def _new_user(mail: ParsedMail) -> User:
    """A `user` account for a new sender, with no password anyone knows."""
    base = re.sub(r"[^A-Za-z0-9_.@-]", "", mail.sender)[:56] or "mailuser"
    username = base if len(base) >= 3 else f"{base}-mail"
    while users.find_by_username(username) is not None:
        username = f"{base[:50]}-{secrets.token_hex(3)}"
    return users.create_user(
        None,
        username=username,
        password=secrets.token_urlsafe(32),
        email=mail.sender,
        full_name=mail.sender_name[:120],
        check_policy=False,
    )


# ---------------------------------------------------------------- threading


def find_ticket(mail: ParsedMail) -> Ticket | None:
    """In-Reply-To/References against the ids we sent and received, then the
    number in the subject, then the signed reply address — never subject text."""
    ids = mail.in_reply_to + list(reversed(mail.references))
    if ids:
        keys = [id_key(i) for i in ids[:50]]
        ticket_id = db.session.scalar(
            select(MailMessage.ticket_id)
            .where(MailMessage.key.in_(keys), MailMessage.ticket_id.is_not(None))
            .order_by(MailMessage.id.desc())
            .limit(1)
        )
        if ticket_id is not None:
            return db.session.get(Ticket, ticket_id)
    for number in mail.ticket_numbers:
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is not None:
            return ticket
    for ticket_id in rules.tokens_in(mail.recipients):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is not None:
            return ticket
    return None


# ---------------------------------------------------------------- ingest


def ingest(raw: bytes, *, mailbox: Mailbox | None = None) -> Result:
    """Handle one message. Expected problems become a recorded outcome; a message
    that cannot be parsed or handled at all is quarantined."""
    mailbox_id = mailbox.id if mailbox else None
    limit = int(mail_settings.get("MAIL_MAX_MESSAGE_MB")) * 1024 * 1024
    if len(raw) > limit:
        row = quarantine(raw, f"larger than MAIL_MAX_MESSAGE_MB ({len(raw)} bytes)", mailbox_id=mailbox_id)  # fmt: skip
        return Result(Outcome.QUARANTINED, row.reason)
    try:
        mail = parse(raw)
    except Exception as exc:  # noqa: BLE001  any parser failure: keep the message
        log.warning("unparseable message quarantined: %r", exc)
        row = quarantine(raw, f"cannot be parsed: {exc!r}", mailbox_id=mailbox_id)
        return Result(Outcome.QUARANTINED, row.reason)
    if db.session.scalar(select(MailMessage.id).where(MailMessage.key == mail.key)):
        return Result(None, "duplicate Message-ID")
    record = MailMessage(
        key=mail.key,
        message_id=mail.message_id[:255],
        direction=Direction.IN,
        outcome=Outcome.IGNORED,
        sender=mail.sender[:254],
        subject=mail.subject[:255],
        mailbox_id=mailbox_id,
        size=len(raw),
    )
    try:
        with db.session.begin_nested():  # claims the Message-ID before anything else
            db.session.add(record)
    except IntegrityError:
        return Result(None, "duplicate Message-ID")
    try:
        with db.session.begin_nested():
            result = _handle(mail, raw, mailbox, record)
    except Exception as exc:  # noqa: BLE001  a bug or a rule we did not foresee
        log.exception("message quarantined")
        row = quarantine(raw, f"could not be handled: {exc!r}", mailbox_id=mailbox_id)
        record.outcome, record.reason = Outcome.QUARANTINED, row.reason[:255]
        return Result(Outcome.QUARANTINED, row.reason)
    record.outcome, record.reason = result.outcome or Outcome.IGNORED, result.reason[:255]
    record.ticket_id, record.comment_id = result.ticket_id, result.comment_id
    db.session.flush()
    return result


def _handle(mail: ParsedMail, raw: bytes, mailbox: Mailbox | None, record: MailMessage) -> Result:
    if mail.report is not None:
        return _bounce(mail, record, raw)
    noise = rules.noise_reason(
        mail, own_addresses(), ignore_lists=bool(mail_settings.get("MAIL_IGNORE_LISTS"))
    )
    if noise:
        return Result(Outcome.IGNORED, noise)
    if not mail.sender:
        record.stored_name = keep_original(raw)
        return Result(Outcome.REFUSED, "no sender address")
    if _over_rate_limit(mail.sender):
        return Result(Outcome.REFUSED, "sender rate limit")
    user = _find_user(mail.sender)
    if user is None:
        if mail_settings.get("MAIL_UNKNOWN_SENDERS") == "refuse":
            _refuse(mail, "refused_unknown")
            return Result(Outcome.REFUSED, "unknown sender")
        try:
            user = _new_user(mail)
        except HelpdeskError as exc:
            record.stored_name = keep_original(raw)
            return Result(Outcome.REFUSED, f"sender not usable: {exc.message}"[:255])
    if not user.active:
        return Result(Outcome.REFUSED, "sender account deactivated")
    record.stored_name = keep_original(raw)
    files, refused = _screen(mail.files)
    text = _body(mail)
    ticket = find_ticket(mail)
    note = ""
    if ticket is not None and not ticket_perm.can_view_ticket(user, ticket):
        ticket = None  # a stranger never lands on someone else's ticket
    if ticket is not None and ticket.is_closed:
        if mail_settings.get("MAIL_CLOSED_REPLY") == "reopen" and ticket_perm.can_change_status(
            user, ticket, Status.OPEN
        ):
            tickets.change_status(user, ticket, Status.OPEN)
        else:
            note = f"Follow-up to {ticket.number} (closed).\n\n"
            ticket = None
    if refused:
        _refuse(mail, "refused_files", detail="\n".join(refused))
    if ticket is not None:
        first, rest = files[: _per_batch()], files[_per_batch() :]
        comment = tickets.add_comment(user, ticket, text, uploads=_uploads(first))
        _more_files(user, ticket, rest)
        return Result(Outcome.COMMENT, "", ticket.id, comment.id)
    first, rest = files[: _per_batch()], files[_per_batch() :]
    ticket = tickets.create_ticket(
        user,
        title=(mail.subject or "(no subject)")[: tickets.TITLE_MAX],
        description=note + text,
        category_id=_category_id(mailbox),
        uploads=_uploads(first),
    )
    _more_files(user, ticket, rest)
    return Result(Outcome.TICKET, "", ticket.id)


def _body(mail: ParsedMail) -> str:
    text = mail.text.strip() or "(no text)"
    if mail.winmail:
        text += "\n\n(An Outlook winmail.dat part is kept in the original message.)"
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n\n[…] (cut; the whole text is in the original message)"
    return text


def _per_batch() -> int:
    return int(current_app.config["MAX_FILES_PER_UPLOAD"])


def _uploads(files: list[MailFile]) -> list[Upload]:
    return [Upload(f.name, io.BytesIO(f.data)) for f in files]


def _more_files(user: User, ticket: Ticket, files: list[MailFile]) -> None:
    """More files than one upload takes: the rest on comments of their own."""
    step = _per_batch()
    for start in range(0, len(files), step):
        batch = files[start : start + step]
        tickets.add_comment(user, ticket, "(more files from the e-mail)", uploads=_uploads(batch))


def _screen(files: list[MailFile]) -> tuple[list[MailFile], list[str]]:
    """Files the web would accept, and one line per file it would not."""
    accepted: list[MailFile] = []
    refused: list[str] = []
    for f in files:
        try:
            screen_file(f.name, f.data)
        except HelpdeskError:
            refused.append(f.name)
            continue
        accepted.append(f)
    return accepted, refused


def _category_id(mailbox: Mailbox | None) -> int:
    if mailbox is not None and mailbox.category_id:
        category = db.session.get(Category, mailbox.category_id)
        if category is not None and category.active:
            return category.id
    category_id = db.session.scalar(
        select(Category.id).where(Category.active.is_(True)).order_by(Category.id).limit(1)
    )
    if category_id is None:
        raise RuntimeError("no active category to file mail under; create one")
    return int(category_id)


def _over_rate_limit(sender: str) -> bool:
    since = utcnow() - timedelta(hours=1)
    count = db.session.scalar(
        select(func.count())
        .select_from(MailMessage)
        .where(
            MailMessage.sender == sender,
            MailMessage.created_at >= since,
            MailMessage.outcome.in_((Outcome.TICKET, Outcome.COMMENT, Outcome.REFUSED)),
        )
    )
    return int(count or 0) >= int(mail_settings.get("MAIL_SENDER_LIMIT_PER_HOUR"))


def _refuse(mail: ParsedMail, reason_key: str, *, detail: str = "") -> None:
    outbox.queue_refusal(
        to_address=mail.sender,
        subject=mail.subject,
        reason_key=reason_key,
        detail=detail,
        in_reply_to=mail.message_id,
    )


def _bounce(mail: ParsedMail, record: MailMessage, raw: bytes) -> Result:
    """A delivery report: marked on the outgoing message it returns, never answered."""
    assert mail.report is not None
    record.stored_name = keep_original(raw)
    ids = mail.report.original_ids + mail.in_reply_to + mail.references
    for message_id in ids:
        row = db.session.scalar(select(Outbox).where(Outbox.message_id == message_id[:255]))
        if row is not None:
            row.status = OutboxStatus.BOUNCED
            row.last_error = f"bounced {mail.report.status} {mail.report.diagnostic}".strip()[:500]
            return Result(Outcome.BOUNCE, f"bounce of outbox {row.id}", row.ticket_id)
    return Result(Outcome.BOUNCE, "delivery report for no message of ours")
