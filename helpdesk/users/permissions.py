"""Who may manage people."""

from __future__ import annotations

from helpdesk.users.models import User


def can_manage_users(actor: User) -> bool:
    return actor.is_admin


def can_chat_with(actor: User, other: User) -> bool:
    """Users talk to support; staff talk to anyone; nobody chats with themselves."""
    if actor.id == other.id or not other.active:
        return False
    return actor.is_staff or other.is_staff
