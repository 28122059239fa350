"""State changes and payloads of the real-time layer (flush, never commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.realtime import rooms
from helpdesk.realtime.emit import emit_after_commit
from helpdesk.users.models import User


def record_last_seen(user_id: int, when: datetime | None = None) -> datetime:
    when = when or utcnow()
    user = db.session.get(User, user_id)
    if user is not None:
        user.last_seen_at = when
        db.session.flush()
    return when


def presence_payload(
    user_id: int, status: str, last_seen: datetime | None = None
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "status": status,
        "last_seen": last_seen.isoformat() if last_seen else None,
    }


def went_offline(user_id: int, is_staff: bool) -> None:
    """Store "last seen" and, once that is committed, tell who may know."""
    when = record_last_seen(user_id)
    emit_after_commit(
        "presence", presence_payload(user_id, "offline", when), rooms.presence_rooms(is_staff)
    )
