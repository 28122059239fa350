"""Who may change the desk's settings: administrators."""

from __future__ import annotations

from helpdesk.users.models import User


def can_manage_desk(user: User | None) -> bool:
    return bool(user is not None and user.is_admin)
