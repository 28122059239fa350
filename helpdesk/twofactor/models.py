"""Two-factor sign-in: one TOTP secret per person and their one-time recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow


class TotpSecret(Base):
    """A person's authenticator secret; on for sign-in once `confirmed_at` is set."""

    __tablename__ = "totp_secrets"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))  # base32, RFC 6238
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second step a code was accepted for: a code is good once, and never
    # for a step at or before this one (no replay within the drift window).
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    """One single-use code for when the authenticator is lost; only its hash is kept."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the normalised code
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
