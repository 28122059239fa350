"""Conversations and messages. Flush, never commit; emits are queued for after commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from helpdesk.chat import permissions as perm
from helpdesk.chat.models import Conversation, Message
from helpdesk.errors import InvalidInput, NotFound, PermissionDenied, TooManyRequests
from helpdesk.extensions import db
from helpdesk.inputs import valid_id
from helpdesk.notifications import services as notifications
from helpdesk.notifications.models import NotificationKind
from helpdesk.realtime import rooms
from helpdesk.realtime.emit import emit_after_commit
from helpdesk.realtime.ratelimit import get_limiter
from helpdesk.users.models import User

HISTORY_PAGE = 30
LIST_LIMIT = 100

# http(s) links only; anything else stays text. Trailing punctuation is left out.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def message_max() -> int:
    return int(current_app.config.get("CHAT_MESSAGE_MAX", 2000))


def render_text(body: str) -> Markup:
    """Plain text → HTML: everything escaped, line breaks kept, http(s) links clickable."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(body):
        url = match.group(0)
        trimmed = url.rstrip(_TRAILING)
        end = match.start() + len(trimmed)
        out.append(str(escape(body[pos : match.start()])))
        if len(trimmed) > len("https://"):
            out.append(
                f'<a href="{escape(trimmed)}" rel="noopener noreferrer nofollow" '
                f'target="_blank">{escape(trimmed)}</a>'
            )
        else:
            out.append(str(escape(trimmed)))
        pos = end
    out.append(str(escape(body[pos:])))
    # Every piece above went through escape(); only our own <a>/<br> tags are raw.
    return Markup("".join(out).replace("\n", "<br>"))  # noqa: S704


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def get_user_to_chat(actor: User, other_id: int) -> User:
    other = db.session.get(User, other_id) if valid_id(other_id) else None
    if other is None or not perm.can_start_conversation(actor, other):
        raise PermissionDenied("You cannot chat with that person.")
    return other


def start_conversation(actor: User, other: User) -> Conversation:
    """The pair's one conversation, created on first use (race-safe on the unique pair)."""
    if not perm.can_start_conversation(actor, other):
        raise PermissionDenied("You cannot chat with that person.")
    low, high = _pair(actor.id, other.id)
    query = select(Conversation).where(
        Conversation.low_user_id == low, Conversation.high_user_id == high
    )
    conv = db.session.scalar(query)
    if conv is not None:
        return conv
    try:
        with db.session.begin_nested():
            conv = Conversation(low_user_id=low, high_user_id=high)
            db.session.add(conv)
    except IntegrityError:  # the other side opened it at the same moment
        conv = db.session.scalar(query)
        assert conv is not None
    return conv


def get_conversation(actor: User, conversation_id: int) -> Conversation:
    conv = db.session.get(Conversation, conversation_id)
    if conv is None or not perm.can_read_conversation(actor, conv):
        raise NotFound("No such conversation.")
    return conv


def message_payload(msg: Message, sender: User) -> dict[str, Any]:
    return {
        "id": msg.id,
        "conversation_id": msg.conversation_id,
        "sender_id": sender.id,
        "sender_name": sender.display_name,
        "html": str(render_text(msg.body)),
        "created_at": msg.created_at.isoformat() if msg.created_at else None,
    }


def send_message(
    actor: User, conversation: Conversation, body: Any, *, notify: bool = True
) -> Message:
    """Store a message and deliver it to every open tab of both people.

    `notify` is False when the recipient has this chat open somewhere (the
    caller knows from presence): no bell notification then.
    """
    if not perm.can_read_conversation(actor, conversation):
        raise NotFound("No such conversation.")
    if not perm.can_send(actor, conversation):
        raise PermissionDenied("You cannot chat with that person.")
    # Here, not in an entry point: the socket, the no-JavaScript form and any later API
    # share one count per person.
    rule = current_app.config.get("CHAT_RATE_LIMIT", "20 per 10 seconds")
    limiter = get_limiter()
    if not limiter.hit(rule, "chat", actor.id):
        raise TooManyRequests(
            "You are sending messages too fast; wait a moment.",
            field="body",
            retry_after=limiter.retry_after(rule, "chat", actor.id),
        )
    if not isinstance(body, str):
        raise InvalidInput("Write a message first.", field="body")
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("Write a message first.", field="body")
    limit = message_max()
    if len(body) > limit:
        raise InvalidInput(
            "Messages may have at most %(max)s characters (this one has %(n)s).",
            max=limit,
            n=len(body),
            field="body",
        )
    msg = Message(conversation_id=conversation.id, sender_id=actor.id, body=body)
    db.session.add(msg)
    db.session.flush()
    conversation.last_message_id = msg.id
    conversation.last_message_at = msg.created_at
    # Your own message counts as read by you.
    if actor.id == conversation.low_user_id:
        conversation.low_last_read_id = msg.id
    else:
        conversation.high_last_read_id = msg.id
    db.session.flush()
    other = conversation.other(actor)
    payload = message_payload(msg, actor)
    emit_after_commit("chat:message", payload, rooms.user(actor.id))
    emit_after_commit(
        "chat:message", {**payload, "unread_total": unread_total(other)}, rooms.user(other.id)
    )
    if notify:
        notifications.notify(
            other,
            NotificationKind.CHAT_MESSAGE,
            actor=actor,
            conversation_id=conversation.id,
            detail=body[:120],
        )
    return msg


@dataclass
class HistoryPage:
    messages: list[Message]
    has_more: bool


def history(
    actor: User, conversation: Conversation, *, before: int | None = None, limit: int = HISTORY_PAGE
) -> HistoryPage:
    """Oldest-to-newest page of messages older than `before` (keyset on id)."""
    if not perm.can_read_conversation(actor, conversation):
        raise NotFound("No such conversation.")
    query = select(Message).where(Message.conversation_id == conversation.id)
    if before:
        query = query.where(Message.id < before)
    rows = list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    return HistoryPage(list(reversed(rows[:limit])), has_more)


def mark_read(actor: User, conversation: Conversation, message_id: int | None = None) -> int:
    """Move `actor`'s read pointer forward (never back); tell both sides after commit."""
    if not perm.can_read_conversation(actor, conversation):
        raise NotFound("No such conversation.")
    upto = conversation.last_message_id
    if message_id is not None:
        upto = min(upto, message_id)
    is_low = actor.id == conversation.low_user_id
    current = conversation.low_last_read_id if is_low else conversation.high_last_read_id
    if upto <= current:
        return current
    if is_low:
        conversation.low_last_read_id = upto
    else:
        conversation.high_last_read_id = upto
    db.session.flush()
    notifications.mark_conversation_read(actor, conversation.id)
    payload = {"conversation_id": conversation.id, "reader_id": actor.id, "upto": upto}
    emit_after_commit("chat:read", payload, rooms.user(conversation.other(actor).id))
    emit_after_commit(
        "chat:read", {**payload, "unread_total": unread_total(actor)}, rooms.user(actor.id)
    )
    return upto


def _my_pointer(user_id: int) -> ColumnElement[Any]:
    return case(
        (Conversation.low_user_id == user_id, Conversation.low_last_read_id),
        else_=Conversation.high_last_read_id,
    )


def _member(user_id: int) -> ColumnElement[bool]:
    return or_(Conversation.low_user_id == user_id, Conversation.high_user_id == user_id)


def unread_counts(user: User, conversation_ids: list[int] | None = None) -> dict[int, int]:
    query = (
        select(Message.conversation_id, func.count())
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(_member(user.id), Message.sender_id != user.id, Message.id > _my_pointer(user.id))
        .group_by(Message.conversation_id)
    )
    if conversation_ids is not None:
        query = query.where(Message.conversation_id.in_(conversation_ids))
    return {cid: int(n) for cid, n in db.session.execute(query)}


def unread_total(user: User) -> int:
    return sum(unread_counts(user).values())


@dataclass
class ConversationRow:
    conversation: Conversation
    other: User
    last_message: Message | None
    unread: int


def conversations_for(actor: User) -> list[ConversationRow]:
    convs = list(
        db.session.scalars(
            select(Conversation)
            .where(_member(actor.id))
            .order_by(Conversation.last_message_id.desc(), Conversation.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    ids = [c.id for c in convs]
    last_ids = [c.last_message_id for c in convs if c.last_message_id]
    last = (
        {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(last_ids)))}
        if last_ids
        else {}
    )
    unread = unread_counts(actor, ids) if ids else {}
    return [
        ConversationRow(c, c.other(actor), last.get(c.last_message_id), unread.get(c.id, 0))
        for c in convs
    ]


def support_contacts(actor: User, limit: int = 200) -> list[User]:
    """People `actor` may start a chat with: staff for users, anyone active for staff."""
    query = select(User).where(User.active.is_(True), User.id != actor.id)
    if not actor.is_staff:
        from helpdesk.users.models import STAFF_ROLES

        query = query.where(User.role.in_(list(STAFF_ROLES)))
    return list(db.session.scalars(query.order_by(User.full_name, User.username).limit(limit)))


def seen_upto(conversation: Conversation, viewer: User) -> int:
    """The other side's read pointer: messages of `viewer` up to it are "seen"."""
    return conversation.last_read_id(conversation.other(viewer).id)
