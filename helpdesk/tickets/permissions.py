"""Pure predicates: who may see and do what on a ticket.

`visible_clause` is the SQL twin of `can_view_ticket`; every list, search, count,
dashboard figure and export filters through it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk.extensions import db
from helpdesk.tickets.models import Status, Ticket
from helpdesk.users.models import Role, User


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    if not user.active:
        return False
    if user.role == Role.ADMIN:
        return True
    if ticket.requester_id == user.id:
        return True
    if user.role == Role.TECHNICIAN:
        return ticket.assignee_id is None or ticket.assignee_id == user.id
    return False


def visible_clause(user: User) -> ColumnElement[bool]:
    if not user.active:
        return false()
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.TECHNICIAN:
        # `+ 0` (same meaning) keeps SQLite and MySQL from answering the OR with
        # three index ranges merged and sorted (seconds at a million tickets: the
        # unassigned queue is large); they walk the list's own index instead and
        # stop after one page.  PostgreSQL plans the plain OR well.
        assignee: ColumnElement[Any] | InstrumentedAttribute[int | None] = Ticket.assignee_id
        if db.engine.dialect.name != "postgresql":
            assignee = Ticket.assignee_id + 0
        return or_(assignee == user.id, assignee.is_(None), Ticket.requester_id == user.id)
    return Ticket.requester_id == user.id


def can_see_internal(user: User) -> bool:
    return user.is_staff


def is_assigned_staff(user: User, ticket: Ticket) -> bool:
    return user.role == Role.ADMIN or (
        user.role == Role.TECHNICIAN and ticket.assignee_id == user.id
    )


def can_take(user: User, ticket: Ticket) -> bool:
    return (
        user.is_staff
        and ticket.assignee_id is None
        and ticket.status != Status.CLOSED
        and can_view_ticket(user, ticket)
    )


def can_assign(user: User, ticket: Ticket) -> bool:
    return user.role == Role.ADMIN


def can_change_priority(user: User, ticket: Ticket) -> bool:
    return is_assigned_staff(user, ticket)


def allowed_statuses(user: User, ticket: Ticket) -> list[Status]:
    """Statuses `user` may move `ticket` to from where it is now."""
    current = ticket.status
    if not can_view_ticket(user, ticket):
        return []
    if is_assigned_staff(user, ticket):
        if current == Status.CLOSED:
            return [Status.OPEN]  # reopen
        return [s for s in Status if s != current]
    if ticket.requester_id == user.id:
        if current in (Status.RESOLVED, Status.CLOSED):
            allowed = [Status.OPEN]
            if current == Status.RESOLVED:
                allowed.append(Status.CLOSED)
            return allowed
        return [Status.CLOSED]
    return []


def can_change_status(user: User, ticket: Ticket, new_status: Status) -> bool:
    return new_status in allowed_statuses(user, ticket)


def can_comment(user: User, ticket: Ticket, *, internal: bool = False) -> bool:
    if not can_view_ticket(user, ticket):
        return False
    if internal:
        return can_see_internal(user)
    return True


def can_edit_category(user: User, ticket: Ticket) -> bool:
    return is_assigned_staff(user, ticket)


def can_manage_categories(user: User) -> bool:
    return user.role == Role.ADMIN


def can_watch_ticket(user: User, ticket: Ticket) -> bool:
    """May hear a ticket page's live changes (its public socket room)."""
    return can_view_ticket(user, ticket)


def can_see_ticket_staff_room(user: User, ticket: Ticket) -> bool:
    """Internal notes and the list of viewers are for staff who may see the ticket."""
    return can_view_ticket(user, ticket) and can_see_internal(user)
