"""Pure predicates: who may see and do what on a ticket.

Who sees which ticket is said once, in `tickets/audience.py`: `can_view_ticket` and
its SQL twin `visible_clause` (every list, search, dashboard figure and export) read
it, and so do the maintained counters and per-day figures.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from helpdesk.tickets.audience import Audience
from helpdesk.tickets.models import Status, Ticket
from helpdesk.users.models import Role, User


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    return Audience.of(user).admits(ticket)


def visible_clause(user: User) -> ColumnElement[bool]:
    return Audience.of(user).clause()


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


def closed_to_comment(ticket: Ticket, *, internal: bool) -> bool:
    """A closed ticket takes no public comment (reopen it first); internal notes still go."""
    return ticket.is_closed and not internal


def can_write_comment(user: User, ticket: Ticket) -> bool:
    """Some comment (public, or an internal note for staff) may be added now: the composer shows."""
    internal = can_see_internal(user)
    return can_comment(user, ticket) and not closed_to_comment(ticket, internal=internal)


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
