"""The e-mail channel's rows: mailboxes, the SMTP relay, every message seen (in
and out, for threading and de-duplication), the outbox and the quarantine.

The database is the source of truth: a message is in `mail_messages` before
anything is done with it, an outgoing mail is an `mail_outbox` row before it is
sent, and a message we could not read is a `mail_quarantine` row with its bytes
on disk.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow

# Rendered messages may be large (HTML part, many recipients' headers).
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql")


def _values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


def _enum(e: type[enum.Enum]) -> Enum:
    return Enum(e, native_enum=False, length=16, values_callable=_values)


class Security(str, enum.Enum):
    TLS = "tls"  # TLS from the first byte (IMAPS 993, SMTPS 465)
    STARTTLS = "starttls"
    PLAIN = "plain"  # only for a server on the same machine (and the tests)


class Mailbox(Base):
    """An IMAP mailbox the desk reads; `address` is what customers write to."""

    __tablename__ = "mail_mailboxes"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    address: Mapped[str] = mapped_column(String(254))
    host: Mapped[str] = mapped_column(String(255), default="")
    port: Mapped[int] = mapped_column(Integer, default=993)
    security: Mapped[Security] = mapped_column(_enum(Security), default=Security.TLS)
    username: Mapped[str] = mapped_column(String(255), default="")
    # Fernet token (see mail.crypto); never shown back.
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmtpRelay(Base):
    """The one relay the desk sends through (row id 1)."""

    __tablename__ = "mail_smtp_relay"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    port: Mapped[int] = mapped_column(Integer, default=587)
    security: Mapped[Security] = mapped_column(_enum(Security), default=Security.STARTTLS)
    username: Mapped[str] = mapped_column(String(255), default="")
    password_encrypted: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Direction(str, enum.Enum):
    IN = "in"
    OUT = "out"


class Outcome(str, enum.Enum):
    TICKET = "ticket"  # a new ticket
    COMMENT = "comment"  # a reply on an existing ticket
    IGNORED = "ignored"  # automatic mail, lists, our own loops: nothing done
    REFUSED = "refused"  # a person was told why (unknown sender, rate limit)
    BOUNCE = "bounce"  # a delivery report about one of ours
    QUARANTINED = "quarantined"  # unreadable: kept for staff
    SENT = "sent"  # one of ours (direction out)


class MailMessage(Base):
    """Every message seen: de-duplication (one row per Message-ID) and threading."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        Index("ix_mail_messages_sender_created_at", "sender", "created_at"),
        Index("ix_mail_messages_ticket_id", "ticket_id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of the normalised Message-ID (or of the bytes when there is none):
    # Message-IDs may be up to 998 characters, too long for a portable unique index.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(255), default="")
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    reason: Mapped[str] = mapped_column(String(255), default="")
    sender: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(255), default="")
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_mailboxes.id", ondelete="SET NULL")
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    # The original .eml under UPLOAD_DIR/mail/ (staff only), when kept.
    stored_name: Mapped[str | None] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxStatus(str, enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; an admin may retry
    BOUNCED = "bounced"  # sent, then a delivery report came back


class OutboxKind(str, enum.Enum):
    CREATED = "created"  # acknowledgement to the requester
    REPLY = "reply"  # a public comment
    STATUS = "status"  # resolved / closed
    ASSIGNED = "assigned"  # to the technician
    QUEUE = "queue"  # new unassigned ticket, to technicians
    REFUSAL = "refusal"  # a polite automatic answer to a message we did not take
    TEST = "test"  # helpdesk mail-test


class Outbox(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_mail_outbox_ticket_id", "ticket_id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.QUEUED)
    to_address: Mapped[str] = mapped_column(String(254))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(8), default="es")
    message_id: Mapped[str] = mapped_column(String(255))
    in_reply_to: Mapped[str] = mapped_column(String(255), default="")  # refusals answer a message
    subject: Mapped[str] = mapped_column(String(255), default="")
    # For a refusal: why (a key) and the files concerned, one per line.
    detail: Mapped[str] = mapped_column(Text, default="")
    # The message as sent (RFC 5322), rendered at the first attempt and kept.
    raw: Mapped[str | None] = mapped_column(LongText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quarantine(Base):
    """A message we could not read: kept whole for staff; the mailbox moves on."""

    __tablename__ = "mail_quarantine"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_mailboxes.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(500))
    sender: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(255), default="")
    stored_name: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailPreference(Base):
    """Which ticket events reach a person by mail (no row: all of them)."""

    __tablename__ = "mail_preferences"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    created: Mapped[bool] = mapped_column(Boolean, default=True)
    reply: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned: Mapped[bool] = mapped_column(Boolean, default=True)
    queue: Mapped[bool] = mapped_column(Boolean, default=True)
