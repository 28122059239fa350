"""Room names. Every join goes through a socket handler after a permission check."""

from __future__ import annotations

STAFF = "staff"  # every technician and admin socket: presence of anyone, queue changes
USERS = "users"  # every end-user socket: presence of staff only


def user(user_id: int) -> str:
    return f"user:{user_id}"


def ticket(ticket_id: int) -> str:
    """Viewers of a ticket page: public changes only."""
    return f"ticket:{ticket_id}"


def ticket_staff(ticket_id: int) -> str:
    """Staff viewers of a ticket page: internal notes and the viewer list too."""
    return f"ticket:{ticket_id}:staff"


def conversation(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def session(session_key: str) -> str:
    """Every socket opened with one login session (so a logout can close them)."""
    return f"session:{session_key}"


def presence_rooms(is_staff: bool) -> list[str]:
    """Who may see a person's presence: staff see everyone; users see staff only."""
    return [STAFF, USERS] if is_staff else [STAFF]
