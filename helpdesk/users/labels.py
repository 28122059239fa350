"""What the roles are called, for forms and templates alike (translated when shown)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from helpdesk.users.models import Role

ROLE_LABELS: dict[Role, Any] = {
    Role.ADMIN: _l("Administrator"),
    Role.TECHNICIAN: _l("Technician"),
    Role.USER: _l("User"),
}
# The role select lists the least powerful role first.
ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in (Role.USER, Role.TECHNICIAN, Role.ADMIN)]


def role_label(value: Any) -> str:
    try:
        return str(ROLE_LABELS[Role(value)])
    except ValueError:
        return str(value)
