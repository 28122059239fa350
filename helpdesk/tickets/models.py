"""Tickets, their categories, comments and the timeline of events."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import MYSQL_TABLE_ARGS, Base, RankedEnum, UTCDateTime, utcnow
from helpdesk.users.models import User


class Status(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class EventKind(str, enum.Enum):
    CREATED = "created"
    ASSIGNED = "assigned"
    STATUS = "status"
    PRIORITY = "priority"
    CATEGORY = "category"
    COMMENT = "comment"
    NOTE = "note"  # internal note: staff only
    ATTACHMENT = "attachment"
    # Service levels (helpdesk.sla): new_value names the clock ("first_response",
    # "resolution") or, for a recompute, the policy.
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    SLA_RECOMPUTED = "sla_recomputed"


def _values(e: type[enum.Enum]) -> list[str]:
    return [m.value for m in e]


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketSequence(Base):
    """One row per year; the row lock serialises number allocation."""

    __tablename__ = "ticket_sequences"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class TicketCount(Base):
    """Tickets per (status, assignee, priority, category); database triggers keep it exact.

    Admin and technician badges and the dashboard read these few rows instead of
    counting the tickets table.  `assignee_key` is 0 for the unassigned queue;
    `assignee_key` and `category_id` are -1 in the rollup rows ("any").
    Triggers (see `helpdesk.tickets.counters`) rather than Python bookkeeping,
    because only the trigger sees the row as it really was when two
    transactions change the same ticket at once.
    """

    __tablename__ = "ticket_counts"
    __table_args__ = (
        # The workload chart: open statuses × every technician, categories rolled up.
        Index("ix_ticket_counts_category_id_status", "category_id", "status", "assignee_key"),
        MYSQL_TABLE_ARGS,
    )

    # assignee first: the key order of the primary key, so the rollup rows
    # (assignee_key -1) and a technician's queue (0 and their id) are short ranges.
    assignee_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[Priority] = mapped_column(
        RankedEnum(Priority), primary_key=True, autoincrement=False
    )
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)


class TicketDay(Base):
    """Per-day ticket figures by (day, assignee, priority); database triggers keep them exact.

    The dashboard's averages, created-vs-resolved trend, "resolved today" and
    overdue figures sum a few rows per day instead of reading every ticket of
    the window (which grows with the desk).  A ticket counts in the row of the
    day it was created (created_n, open_n, responded_n/response_ms,
    resolved_n/resolution_ms: averages over tickets created in a window) and,
    once resolved, in the row of the day it was resolved (resolved_on_n: the
    trend).  Durations are summed in milliseconds.  Rows with assignee_key -1 add
    up every assignee (what an administrator reads).  See `helpdesk.tickets.daily`.
    """

    __tablename__ = "ticket_days"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    assignee_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    priority: Mapped[Priority] = mapped_column(
        RankedEnum(Priority), primary_key=True, autoincrement=False
    )
    created_n: Mapped[int] = mapped_column(Integer, default=0)
    open_n: Mapped[int] = mapped_column(Integer, default=0)
    responded_n: Mapped[int] = mapped_column(Integer, default=0)
    response_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved_n: Mapped[int] = mapped_column(Integer, default=0)
    resolution_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved_on_n: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    # Keyset pages walk (filter, id); each list filter has its composite index.
    __table_args__ = (
        Index("ix_tickets_requester_id_id", "requester_id", "id"),
        # A user's status badges: an index-only range scan of their own tickets.
        Index("ix_tickets_requester_id_status", "requester_id", "status"),
        Index("ix_tickets_assignee_id_id", "assignee_id", "id"),
        Index("ix_tickets_assignee_id_status_id", "assignee_id", "status", "id"),
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_priority_id", "priority", "id"),
        Index("ix_tickets_category_id_id", "category_id", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        # Date ranges (reports, "overdue" near each priority's limit): the columns
        # the visibility rule and those counts test are in the index, so counting
        # a day's tickets reads no table rows (a day is thousands of tickets at 1M).
        Index(
            "ix_tickets_created_at_cover",
            "created_at",
            "status",
            "priority",
            "assignee_id",
            "requester_id",
        ),
        Index("ix_tickets_resolved_at", "resolved_at"),  # "resolved today", the trend
        # Service levels: the list sorted by next due / "breached" and the
        # dashboard's counts are ranges of these; the sweep reads only the
        # pending alerts (the column is cleared once a clock has nothing to send).
        Index("ix_tickets_sla_next_due_id", "sla_next_due", "id"),
        Index("ix_tickets_sla_next_warn", "sla_next_warn"),
        Index("ix_tickets_sla_next_alert", "sla_next_alert"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    description_html: Mapped[str] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=16, values_callable=_values), default=Status.OPEN
    )
    priority: Mapped[Priority] = mapped_column(RankedEnum(Priority), default=Priority.MEDIUM)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Service levels (see helpdesk.sla.clocks).  Dues are NULL while paused.
    # No foreign key (migration 0011): policies are deactivated, never deleted.
    sla_policy_id: Mapped[int | None] = mapped_column(Integer)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Start of the resolution clock: created_at, or the last reopening.
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business seconds spent paused, added to each running clock's target.
    sla_response_paused_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_resolution_paused_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # None while running; True/False once met in time / late.
    sla_response_met: Mapped[bool | None] = mapped_column(Boolean)
    sla_resolution_met: Mapped[bool | None] = mapped_column(Boolean)
    # Alerts sent per clock: 0 none, 1 warning, 2 breach (each at most once).
    sla_response_alerted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_resolution_alerted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Derived from the above: the earliest running due, warning and pending alert.
    sla_next_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_next_warn: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_next_alert: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # LEFT JOIN although category_id is NOT NULL: with an inner join MariaDB starts
    # from the 8 categories and sorts every ticket for one page (seconds at 1M).
    category: Mapped[Category] = relationship(lazy="joined")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_ticket_id_id", "ticket_id", "id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class TicketEvent(Base):
    """One row per change: the ticket's timeline and its audit trail."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[EventKind] = mapped_column(
        Enum(EventKind, native_enum=False, length=16, values_callable=_values)
    )
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    attachment_id: Mapped[int | None] = mapped_column(Integer)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User] = relationship(lazy="joined")
    comment: Mapped[Comment | None] = relationship(lazy="joined")
