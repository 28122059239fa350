"""Conversations (one per pair of people) and their messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow
from helpdesk.users.models import User


class Conversation(Base):
    """A pair stored in id order (low, high) so the pair is unique whatever who starts it.

    Each side's read pointer lives here: unread = messages from the other side
    with an id above it; "seen" receipts compare the other side's pointer.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("low_user_id", "high_user_id"),
        Index("ix_conversations_high_user_id_last_message_id", "high_user_id", "last_message_id"),
        Index("ix_conversations_low_user_id_last_message_id", "low_user_id", "last_message_id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    low_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    high_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    low_last_read_id: Mapped[int] = mapped_column(Integer, default=0)
    high_last_read_id: Mapped[int] = mapped_column(Integer, default=0)
    last_message_id: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    low_user: Mapped[User] = relationship(foreign_keys=[low_user_id], lazy="joined")
    high_user: Mapped[User] = relationship(foreign_keys=[high_user_id], lazy="joined")

    def has_member(self, user_id: int) -> bool:
        return user_id in (self.low_user_id, self.high_user_id)

    def other(self, user: User) -> User:
        return self.high_user if user.id == self.low_user_id else self.low_user

    def last_read_id(self, user_id: int) -> int:
        return self.low_last_read_id if user_id == self.low_user_id else self.high_last_read_id


class Message(Base):
    __tablename__ = "messages"
    # History pages walk (conversation_id, id) backwards.
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
