"""Who may read which figures and take which exports.

Every figure and export is also filtered row by row through
`tickets.permissions.visible_clause`; these predicates only gate whole features.
"""

from __future__ import annotations

from helpdesk.users.models import Role, User


def can_view_reports(user: User) -> bool:
    """Everyone signed in: a user's report covers only their own tickets."""
    return bool(user.active)


def can_export(user: User) -> bool:
    return bool(user.active)


def can_see_workload(user: User) -> bool:
    """Open tickets per technician compares people: administrators only."""
    return bool(user.active) and user.role == Role.ADMIN


def can_see_technician_summary(user: User) -> bool:
    """The per-technician summary table is for staff; a user has one requester: themselves."""
    return bool(user.active) and user.role in (Role.ADMIN, Role.TECHNICIAN)
