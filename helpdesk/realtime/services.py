"""State changes and payloads of the real-time layer (flush, never commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.realtime import rooms
from helpdesk.realtime.emit import emit_after_commit, emit_now
from helpdesk.tickets.models import EventKind, Ticket, TicketEvent
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
    """Boundary of the checker loop: store "last seen", commit, then tell who may know."""
    from helpdesk.realtime.state import presence_rooms

    when = record_last_seen(user_id)
    db.session.commit()
    emit_now("presence", presence_payload(user_id, "offline", when), presence_rooms(is_staff))


def viewer_list(user_ids: set[int]) -> list[dict[str, Any]]:
    if not user_ids:
        return []
    users = db.session.scalars(select(User).where(User.id.in_(sorted(user_ids))))
    return [{"id": u.id, "name": u.display_name} for u in users]


# ------------------------------------------------------------ live tickets

# Changes a requester sees on their page; internal ones go to the staff room only.
_PUBLIC_KINDS = {
    EventKind.CREATED,
    EventKind.ASSIGNED,
    EventKind.STATUS,
    EventKind.PRIORITY,
    EventKind.CATEGORY,
    EventKind.COMMENT,
    EventKind.ATTACHMENT,
}


def ticket_changed(ticket: Ticket, event: TicketEvent) -> None:
    """Queue "this ticket changed" for after commit. The payload carries no content:
    each open page fetches what *its* viewer may see through the normal HTTP view."""
    internal = bool(event.internal) or event.kind not in _PUBLIC_KINDS
    payload = {"ticket_id": ticket.id, "event_id": event.id, "kind": event.kind.value}
    room = rooms.ticket_staff(ticket.id) if internal else rooms.ticket(ticket.id)
    emit_after_commit("ticket:changed", payload, room)
    # Lists and dashboard counters: the requester, the assignee and staff (the
    # queue). Only the id travels, so a recipient learns nothing it may not see.
    targets = [rooms.STAFF]
    if not internal:
        targets.append(rooms.user(ticket.requester_id))
    emit_after_commit("tickets:changed", {"ticket_id": ticket.id}, targets)
