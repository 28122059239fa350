"""Server-side record of each signed-in browser session.

Flask keeps the session in a signed cookie, which the server cannot take back: a copy of
the cookie made before logout would stay valid until it expires.  Each login therefore
creates one row here, named by a random id that the cookie carries (`session["sid"]`);
the user loader accepts a cookie only while its row exists, and logout deletes the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow


class LoginSession(Base):
    __tablename__ = "login_sessions"
    __table_args__ = (
        Index("ix_login_sessions_user_id", "user_id"),
        Index("ix_login_sessions_created_at", "created_at"),  # the expiry sweep
        MYSQL_TABLE_ARGS,
    )

    # 256 random bits, hex; never shown, only carried in the signed cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
