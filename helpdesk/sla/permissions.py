"""Who may manage service levels."""

from __future__ import annotations

from helpdesk.users.models import User


def can_manage_sla(user: User) -> bool:
    return bool(user.is_authenticated and user.active and user.is_admin)
