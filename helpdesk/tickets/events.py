"""Live ticket pages over Socket.IO: who is viewing, and "this ticket changed".

The transport (rooms, presence, the socket boundary) is `helpdesk.realtime`'s;
what a ticket page hears and who may hear it is decided here.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask_socketio import join_room, leave_room
from sqlalchemy import select

from helpdesk.errors import NotFound
from helpdesk.extensions import db, socketio
from helpdesk.realtime import rooms
from helpdesk.realtime.emit import emit_after_commit
from helpdesk.realtime.handlers import MAX_ID, best_effort, socket_event
from helpdesk.realtime.state import RealtimeState, SocketInfo, get_state
from helpdesk.tickets import permissions as perm
from helpdesk.tickets.models import EventKind, Ticket, TicketEvent
from helpdesk.tickets.queries import get_ticket
from helpdesk.users.models import User

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


def on_ticket_event(ticket: Ticket, **kwargs: Any) -> None:
    """Receiver of `signals.ticket_event` (connected by `helpdesk.tickets.init_app`)."""
    ticket_changed(ticket, kwargs["event"])


def viewer_list(user_ids: set[int]) -> list[dict[str, Any]]:
    if not user_ids:
        return []
    users = db.session.scalars(select(User).where(User.id.in_(sorted(user_ids))))
    return [{"id": u.id, "name": u.display_name} for u in users]


def _announce_viewers(ticket_id: int) -> None:
    state = get_state()
    target = rooms.ticket(ticket_id)
    ids = best_effort(lambda: state.presence.viewers(target), set())
    socketio.emit(
        "ticket:viewers",
        {"ticket_id": ticket_id, "viewers": viewer_list(ids)},
        to=rooms.ticket_staff(ticket_id),
    )


def view_left(target: str) -> None:
    """A socket that viewed `target` went away: tell the ticket's staff who is left."""
    if target.startswith("ticket:"):
        _announce_viewers(int(target.split(":")[1]))


@socket_event("ticket:watch", {"ticket_id": (int, MAX_ID)})
def on_ticket_watch(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    ticket = get_ticket(user, data["ticket_id"])  # NotFound unless visible
    if not perm.can_watch_ticket(user, ticket):
        raise NotFound("No such ticket.")
    join_room(rooms.ticket(ticket.id))
    staff = perm.can_see_ticket_staff_room(user, ticket)
    if staff:
        join_room(rooms.ticket_staff(ticket.id))
    target = rooms.ticket(ticket.id)
    sock.views.add(target)
    state = get_state()
    best_effort(lambda: state.presence.view(sock.sid, user.id, target))
    _announce_viewers(ticket.id)
    return {"staff": staff}


@socket_event("ticket:unwatch", {"ticket_id": (int, MAX_ID)})
def on_ticket_unwatch(user: User, sock: SocketInfo, data: dict[str, Any]) -> dict[str, Any]:
    ticket_id = data["ticket_id"]
    target = rooms.ticket(ticket_id)
    leave_room(target)
    leave_room(rooms.ticket_staff(ticket_id))
    if target in sock.views:
        sock.views.discard(target)
        state = get_state()
        best_effort(lambda: state.presence.unview(sock.sid, target))
        _announce_viewers(ticket_id)
    return {}


def leave_lost_tickets(state: RealtimeState, local: list[SocketInfo]) -> None:
    """A ticket reassigned away from a technician: their open page stops hearing it.

    One of the checker loop's room checks (registered by `helpdesk.tickets.init_app`).
    """
    watching = [
        (s, int(v.split(":")[1])) for s in local for v in s.views if v.startswith("ticket:")
    ]
    if not watching:
        return
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({s.user_id for s, _ in watching}))
        )
    }
    tickets = {
        t.id: t
        for t in db.session.scalars(
            select(Ticket).where(Ticket.id.in_({tid for _, tid in watching}))
        )
    }
    for sock, tid in watching:
        user, ticket = users.get(sock.user_id), tickets.get(tid)
        if user is None or ticket is None or not perm.can_watch_ticket(user, ticket):
            for room in (rooms.ticket(tid), rooms.ticket_staff(tid)):
                socketio.server.leave_room(sock.sid, room, namespace="/")
            sock.views.discard(rooms.ticket(tid))
            with contextlib.suppress(Exception):
                state.presence.unview(sock.sid, rooms.ticket(tid))
        elif not perm.can_see_ticket_staff_room(user, ticket):
            socketio.server.leave_room(sock.sid, rooms.ticket_staff(tid), namespace="/")
    db.session.rollback()
