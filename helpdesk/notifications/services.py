"""Create, list and mark notifications; turn ticket events into notifications.

Rows are added in the same transaction as the change they announce; the toast
and the bell counter are emitted to the recipient's own room after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from helpdesk.db import rowcount, utcnow
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.i18n import person_locale
from helpdesk.notifications.models import Notification, NotificationKind
from helpdesk.notifications.permissions import can_read_notification
from helpdesk.realtime import rooms
from helpdesk.realtime.emit import emit_after_commit
from helpdesk.tickets.labels import status_label
from helpdesk.tickets.models import EventKind, Ticket, TicketEvent
from helpdesk.tickets.permissions import can_view_ticket
from helpdesk.users.models import User

PAGE_SIZE = 30


# Sentences for the kinds another feature sends, registered by that feature's
# init_app (service levels), so this module does not import it back.
DESCRIBERS: dict[NotificationKind, Callable[[NotificationKind, str], str]] = {}


def register_describer(
    kinds: Iterable[NotificationKind], describe: Callable[[NotificationKind, str], str]
) -> None:
    for kind in kinds:
        DESCRIBERS[kind] = describe


def describe(n: Notification) -> str:
    """The sentence shown in the list and the toast (in the current locale)."""
    who = n.actor.display_name if n.actor else _("Someone")
    detail = n.detail or ""
    if n.kind == NotificationKind.TICKET_ASSIGNED:
        return _("%(who)s assigned %(ticket)s to you", who=who, ticket=detail)
    if n.kind == NotificationKind.TICKET_COMMENT:
        return _("%(who)s commented on your ticket %(ticket)s", who=who, ticket=detail)
    if n.kind == NotificationKind.TICKET_ACTIVITY:
        return _("%(who)s wrote on %(ticket)s, assigned to you", who=who, ticket=detail)
    if n.kind == NotificationKind.TICKET_STATUS:
        number, _sep, status = detail.partition(" ")
        return _(
            "%(who)s changed the status of %(ticket)s to %(status)s",
            who=who,
            ticket=number,
            status=status_label(status),
        )
    if n.kind in DESCRIBERS:
        return DESCRIBERS[n.kind](n.kind, detail)
    return _("New chat message from %(who)s", who=who)


def target_url(n: Notification) -> str:
    try:
        if n.ticket_id is not None:
            return url_for("tickets.detail", ticket_id=n.ticket_id)
        if n.conversation_id is not None:
            return url_for("chat.conversation", conversation_id=n.conversation_id)
        return url_for("notifications.index")
    except RuntimeError:  # no request (CLI, background job): the plain paths
        if n.ticket_id is not None:
            return f"/tickets/{n.ticket_id}"
        if n.conversation_id is not None:
            return f"/chat/{n.conversation_id}"
        return "/notifications"


def unread_count(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def notify(
    recipient: User,
    kind: NotificationKind,
    *,
    actor: User | None = None,
    ticket: Ticket | None = None,
    conversation_id: int | None = None,
    detail: str | None = None,
) -> Notification:
    n = Notification(
        user_id=recipient.id,
        kind=kind,
        actor_id=actor.id if actor else None,
        actor=actor,
        ticket_id=ticket.id if ticket else None,
        conversation_id=conversation_id,
        detail=(detail or "")[:255] or None,
    )
    db.session.add(n)
    db.session.flush()
    # Rendered now, in the recipient's language, because the toast is sent as text.
    with force_locale(person_locale(recipient)):
        payload = {
            "id": n.id,
            "kind": kind.value,
            "text": describe(n),
            "url": target_url(n),
            "unread": unread_count(recipient),
        }
    emit_after_commit("notification", payload, rooms.user(recipient.id))
    return n


@dataclass
class NotificationPage:
    items: list[Notification]
    next_before: int | None


def list_notifications(
    actor: User, *, before: int | None = None, limit: int = PAGE_SIZE
) -> NotificationPage:
    """Newest first, in keyset pages (`before` = the last id shown)."""
    query = select(Notification).where(Notification.user_id == actor.id)
    if before:
        query = query.where(Notification.id < before)
    rows = list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(rows, rows[-1].id if more and rows else None)


def _emit_count(user: User) -> None:
    emit_after_commit("notifications:count", {"unread": unread_count(user)}, rooms.user(user.id))


def mark_read(actor: User, notification_id: int) -> Notification:
    n = db.session.get(Notification, notification_id)
    if n is None or not can_read_notification(actor, n):
        raise NotFound("No such notification.")
    if n.read_at is None:
        n.read_at = utcnow()
        db.session.flush()
        _emit_count(actor)
    return n


def mark_all_read(actor: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.flush()
    _emit_count(actor)
    return rowcount(result)


def mark_conversation_read(actor: User, conversation_id: int) -> None:
    """Opening a chat settles its chat notifications."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == actor.id,
            Notification.conversation_id == conversation_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    if rowcount(result):
        db.session.flush()
        _emit_count(actor)


# ------------------------------------------------------------ from ticket events


def on_ticket_event(ticket: Ticket, *, event: TicketEvent, actor: User, **_kw: Any) -> None:
    """Receiver of `signals.ticket_event` (inside the transaction)."""
    recipients: dict[int, tuple[User, NotificationKind, str]] = {}
    number = ticket.number

    def add(user: User | None, kind: NotificationKind, detail: str) -> None:
        if user is None or user.id == actor.id or not user.active or user.id in recipients:
            return
        if not can_view_ticket(user, ticket):
            return
        if event.internal and not user.is_staff:
            return  # internal notes never reach a user, not even as a notification
        recipients[user.id] = (user, kind, detail)

    if event.kind == EventKind.ASSIGNED:
        add(ticket.assignee, NotificationKind.TICKET_ASSIGNED, number)
    elif event.kind in (EventKind.COMMENT, EventKind.NOTE):
        if not event.internal:
            add(ticket.requester, NotificationKind.TICKET_COMMENT, number)
        add(ticket.assignee, NotificationKind.TICKET_ACTIVITY, number)
    elif event.kind == EventKind.STATUS:
        add(ticket.requester, NotificationKind.TICKET_STATUS, f"{number} {event.new_value}")
    for user, kind, detail in recipients.values():
        notify(user, kind, actor=actor, ticket=ticket, detail=detail)
