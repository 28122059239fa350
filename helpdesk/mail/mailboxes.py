"""Services for the mail settings an administrator keeps: mailboxes, the SMTP
relay, a person's mail preferences, and retrying the outbox.  Passwords are
stored encrypted and never returned; an empty password field keeps the old one.
Every change writes an audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.audit.services import record
from helpdesk.db import utcnow
from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.mail import crypto, outbox
from helpdesk.mail.models import (
    Direction,
    Mailbox,
    MailMessage,
    MailPreference,
    Outbox,
    OutboxStatus,
    Quarantine,
    Security,
    SmtpRelay,
)
from helpdesk.mail.permissions import can_read_original
from helpdesk.users.models import User
from helpdesk.users.services import EMAIL_RE

PREFERENCE_FIELDS = ("created", "reply", "status", "assigned", "queue")


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can change the mail settings.")


def _security(value: Any) -> Security:
    try:
        return Security(value)
    except ValueError:
        raise InvalidInput("Security must be tls, starttls or plain.", field="security") from None


def _port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        raise InvalidInput("The port must be a number from 1 to 65535.", field="port")
    return port


def _address(value: str, field: str) -> str:
    value = (value or "").strip()
    if not EMAIL_RE.match(value) or len(value) > 254:
        raise InvalidInput("That is not a valid e-mail address.", field=field)
    return value


def get_mailbox(mailbox_id: int) -> Mailbox:
    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound("No such mailbox.")
    return mailbox


def list_mailboxes(actor: User) -> list[Mailbox]:
    _require_admin(actor)
    return list(db.session.scalars(select(Mailbox).order_by(Mailbox.name)))


def save_mailbox(
    actor: User | None,
    mailbox_id: int | None = None,
    *,
    name: str,
    address: str,
    host: str,
    port: Any,
    security: Any,
    username: str,
    password: str = "",
    folder: str = "INBOX",
    category_id: int | None = None,
    active: bool = True,
) -> Mailbox:
    """Create (no id) or update a mailbox. `actor` None is the command line."""
    if actor is not None:
        _require_admin(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidInput("A name of at most 80 characters is required.", field="name")
    host = (host or "").strip()
    if not host or len(host) > 255:
        raise InvalidInput("The server name is required.", field="host")
    clash = db.session.scalar(select(Mailbox.id).where(Mailbox.name == name))
    if clash is not None and clash != mailbox_id:
        raise Conflict("A mailbox with that name already exists.", field="name")
    mailbox = get_mailbox(mailbox_id) if mailbox_id else Mailbox()
    mailbox.name = name
    mailbox.address = _address(address, "address")
    mailbox.host = host
    mailbox.port = _port(port)
    mailbox.security = _security(security)
    mailbox.username = (username or "").strip()[:255]
    if password:
        mailbox.password_encrypted = crypto.encrypt(password)
    mailbox.folder = (folder or "INBOX").strip()[:255] or "INBOX"
    mailbox.category_id = category_id or None
    mailbox.active = bool(active)
    db.session.add(mailbox)
    db.session.flush()
    record("mail.mailbox_saved", actor=actor, target=mailbox, name=name, host=host)
    return mailbox


def delete_mailbox(actor: User, mailbox_id: int) -> None:
    _require_admin(actor)
    mailbox = get_mailbox(mailbox_id)
    record("mail.mailbox_deleted", actor=actor, target=mailbox, name=mailbox.name)
    db.session.delete(mailbox)
    db.session.flush()


def get_relay() -> SmtpRelay:
    return db.session.get(SmtpRelay, 1) or SmtpRelay(
        id=1, host="", port=587, security=Security.STARTTLS, username="", from_address=""
    )


def save_relay(
    actor: User | None,
    *,
    host: str,
    port: Any,
    security: Any,
    username: str = "",
    password: str = "",
    from_address: str,
) -> SmtpRelay:
    if actor is not None:
        _require_admin(actor)
    relay = get_relay()
    relay.host = (host or "").strip()[:255]
    if not relay.host:
        raise InvalidInput("The server name is required.", field="host")
    relay.port = _port(port)
    relay.security = _security(security)
    relay.username = (username or "").strip()[:255]
    if password:
        relay.password_encrypted = crypto.encrypt(password)
    relay.from_address = _address(from_address, "from_address")
    relay.updated_at = utcnow()
    db.session.add(relay)
    db.session.flush()
    record("mail.relay_saved", actor=actor, target=relay, host=relay.host)
    return relay


def retry_outbox(actor: User, outbox_id: int) -> Outbox:
    _require_admin(actor)
    row = outbox.retry(outbox_id)
    record("mail.outbox_retry", actor=actor, target=row, to=row.to_address)
    return row


def save_preferences(actor: User, values: dict[str, bool]) -> MailPreference:
    """A person's own choice of which events reach them by mail."""
    pref = db.session.get(MailPreference, actor.id) or MailPreference(user_id=actor.id)
    for name in PREFERENCE_FIELDS:
        setattr(pref, name, bool(values.get(name)))
    db.session.add(pref)
    db.session.flush()
    record("mail.preferences_saved", actor=actor, target=actor, **{n: getattr(pref, n) for n in PREFERENCE_FIELDS})  # fmt: skip
    return pref


# ---------------------------------------------------------------- reading (admin)


def list_outbox(actor: User, *, status: str = "", limit: int = 100) -> list[Outbox]:
    _require_admin(actor)
    query = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
    if status in {s.value for s in OutboxStatus}:
        query = query.where(Outbox.status == OutboxStatus(status))
    return list(db.session.scalars(query))


def list_quarantine(actor: User, *, limit: int = 100) -> list[Quarantine]:
    _require_admin(actor)
    return list(db.session.scalars(select(Quarantine).order_by(Quarantine.id.desc()).limit(limit)))


def recent_messages(actor: User, *, limit: int = 100) -> list[MailMessage]:
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(MailMessage)
            .where(MailMessage.direction == Direction.IN)
            .order_by(MailMessage.id.desc())
            .limit(limit)
        )
    )


def get_quarantined(actor: User, quarantine_id: int) -> Quarantine:
    _require_admin(actor)
    row = db.session.get(Quarantine, quarantine_id)
    if row is None:
        raise NotFound("No such message.")
    return row


def get_original(actor: User, message_id: int) -> MailMessage:
    message = db.session.get(MailMessage, message_id)
    if message is None or not message.stored_name or not can_read_original(actor, message):
        raise NotFound("No such message.")
    return message


def ticket_messages(actor: User, ticket_id: int) -> list[MailMessage]:
    """The mail a ticket came with, for staff (the originals are staff-only)."""
    if not actor.is_staff:
        return []
    rows = db.session.scalars(
        select(MailMessage)
        .where(MailMessage.ticket_id == ticket_id, MailMessage.direction == Direction.IN)
        .order_by(MailMessage.id)
    )
    return [m for m in rows if m.stored_name and can_read_original(actor, m)]
