"""One row per thing a person should know about; the text is rendered at display time
(so it follows the reader's language)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow
from helpdesk.users.models import User


class NotificationKind(str, enum.Enum):
    TICKET_ASSIGNED = "ticket_assigned"  # a ticket was assigned to you
    TICKET_COMMENT = "ticket_comment"  # public comment on your ticket (you are the requester)
    TICKET_ACTIVITY = "ticket_activity"  # comment or note on a ticket assigned to you
    TICKET_STATUS = "ticket_status"  # status change of your ticket
    CHAT_MESSAGE = "chat_message"  # chat message while that chat was not open
    SLA_WARNING = "sla_warning"  # a service-level target of a ticket is at risk
    SLA_BREACHED = "sla_breached"  # a service-level target of a ticket was breached


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(
            NotificationKind,
            native_enum=False,
            length=24,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # A short detail (new status, ticket number) kept so the text needs no join.
    detail: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
