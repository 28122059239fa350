"""Who may talk to whom. Users talk to support; staff talk to anyone."""

from __future__ import annotations

from helpdesk.chat.models import Conversation
from helpdesk.tickets.models import Ticket
from helpdesk.users.models import User
from helpdesk.users.permissions import can_chat_with


def can_start_conversation(actor: User, other: User) -> bool:
    return actor.active and can_chat_with(actor, other)


def can_read_conversation(user: User, conversation: Conversation) -> bool:
    return user.active and conversation.has_member(user.id)


def can_send(user: User, conversation: Conversation) -> bool:
    """Still allowed now: the other side may have been deactivated or changed role."""
    return can_read_conversation(user, conversation) and can_chat_with(
        user, conversation.other(user)
    )


def ticket_chat_peer(user: User, ticket: Ticket) -> User | None:
    """Whom `user` chats with from a ticket's page: staff with the requester, the
    requester with the assignee; None when there is nobody they may chat with."""
    peer: User | None
    if user.is_staff and ticket.requester_id != user.id:
        peer = ticket.requester
    elif ticket.requester_id == user.id:
        peer = ticket.assignee
    else:
        peer = None
    return peer if peer is not None and can_start_conversation(user, peer) else None
