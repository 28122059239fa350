"""Only administrators export or erase a person; nobody erases themself."""

from __future__ import annotations

from helpdesk.users.models import User


def can_export_person(actor: User | None, person: User) -> bool:
    return bool(actor is not None and actor.is_admin)


def can_erase_person(actor: User | None, person: User) -> bool:
    return bool(actor is not None and actor.is_admin and actor.id != person.id)
