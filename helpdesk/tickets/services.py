"""Every ticket state change goes through here: rules, permissions, timeline.

Services flush but never commit; the caller (view, socket handler, CLI) commits
once.  Each change writes a TicketEvent and sends `signals.ticket_event`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import lazyload

from helpdesk.attachments.services import Upload, check_upload_count, store_upload
from helpdesk.db import rowcount, utcnow
from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.inputs import id_arg
from helpdesk.security.sanitize import render_markdown
from helpdesk.signals import ticket_event
from helpdesk.tickets import permissions as perm
from helpdesk.tickets.categories import (  # noqa: F401  (moved; re-exported for old imports)
    create_category,
    delete_category,
    get_category,
    list_categories,
    update_category,
)
from helpdesk.tickets.models import (
    Category,
    Comment,
    EventKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)
from helpdesk.tickets.numbers import (  # noqa: F401  (moved; re-exported for old imports)
    next_ticket_number,
)
from helpdesk.tickets.queries import (  # noqa: F401  (moved; re-exported for old imports)
    PAGE_SIZE,
    SORTS,
    Page,
    TicketFilters,
    count_tickets,
    filtered_tickets,
    get_ticket,
    get_ticket_by_number,
    list_tickets,
    parse_enum,
    parse_filters,
    status_counts,
    timeline,
    visible_tickets,
)
from helpdesk.users.models import User

TITLE_MAX = 200
BODY_MAX = 20000


# ---------------------------------------------------------------- helpers


def _locked(ticket: Ticket) -> Ticket:
    """Take the ticket row's write lock first and re-read it, in every change.

    Without it, two changes of one ticket on MariaDB each took a shared lock on the
    row (the foreign-key check of the comment or event insert) and then both waited
    for the exclusive one to update it: a deadlock (1213). A locking read also sees
    the latest committed row, not the transaction's older snapshot. Joined relations
    are not locked (MariaDB has no FOR UPDATE OF): they load again on use.
    """
    db.session.execute(
        select(Ticket)
        .where(Ticket.id == ticket.id)
        .options(lazyload("*"))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    db.session.expire(ticket, ["category", "requester", "assignee"])
    return ticket


def _attach(
    actor: User,
    ticket: Ticket,
    files: Sequence[Upload],
    *,
    comment_id: int | None = None,
    internal: bool = False,
) -> None:
    """Store each file (already counted) with its timeline row."""
    for upload in files:
        attachment = store_upload(
            actor, ticket.id, upload, comment_id=comment_id, internal=internal
        )
        _event(
            ticket,
            actor,
            EventKind.ATTACHMENT,
            new=attachment.original_name,
            attachment_id=attachment.id,
            internal=internal,
        )


def _event(
    ticket: Ticket,
    actor: User,
    kind: EventKind,
    *,
    old: str | None = None,
    new: str | None = None,
    comment: Comment | None = None,
    attachment_id: int | None = None,
    internal: bool = False,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        actor_id=actor.id,
        kind=kind,
        old_value=old,
        new_value=new,
        comment_id=comment.id if comment else None,
        attachment_id=attachment_id,
        internal=internal,
    )
    db.session.add(event)
    ticket.updated_at = utcnow()
    db.session.flush()
    ticket_event.send(ticket, event=event, actor=actor)
    return event


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("A title is required.", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            "The title may have at most %(n)s characters.", field="title", n=TITLE_MAX
        )
    return title


def _clean_body(body: str, field_name: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("Write something first.", field=field_name)
    if len(body) > BODY_MAX:
        raise InvalidInput("At most %(n)s characters.", field=field_name, n=BODY_MAX)
    return body


def _active_category(category_id: Any) -> Category:
    try:
        category = db.session.get(Category, id_arg(str(category_id)))
    except (TypeError, ValueError):
        category = None
    if category is None or not category.active:
        raise InvalidInput("Choose an active category.", field="category_id")
    return category


# ---------------------------------------------------------------- changes


def create_ticket(
    actor: User,
    *,
    title: str,
    description: str,
    category_id: Any,
    priority: Any = Priority.MEDIUM,
    uploads: Sequence[Upload] = (),
) -> Ticket:
    title = _clean_title(title)
    description = _clean_body(description, "description")
    category = _active_category(category_id)
    priority = parse_enum(Priority, priority or Priority.MEDIUM, "priority")
    files = check_upload_count(uploads)
    ticket = Ticket(
        number=next_ticket_number(),
        title=title,
        description=description,
        description_html=render_markdown(description),
        status=Status.OPEN,
        priority=priority,
        category_id=category.id,
        requester_id=actor.id,
    )
    db.session.add(ticket)
    db.session.flush()
    _event(ticket, actor, EventKind.CREATED, new=ticket.number)
    _attach(actor, ticket, files)
    return ticket


def take_ticket(actor: User, ticket: Ticket) -> Ticket:
    if not perm.can_view_ticket(actor, _locked(ticket)):
        raise NotFound("No such ticket.")
    if not perm.can_take(actor, ticket):
        if ticket.assignee_id is not None and actor.is_staff:
            raise Conflict("Someone else has already taken this ticket.")
        raise PermissionDenied("You cannot take this ticket.")
    # Conditional UPDATE: two technicians clicking at once cannot both win.
    result = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.assignee_id.is_(None))
        .values(assignee_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise Conflict("Someone else has already taken this ticket.")
    db.session.refresh(ticket)
    _event(ticket, actor, EventKind.ASSIGNED, old=None, new=actor.display_name)
    if ticket.status == Status.OPEN:
        _set_status(actor, ticket, Status.IN_PROGRESS)
    return ticket


def assign_ticket(actor: User, ticket: Ticket, assignee_id: int | None) -> Ticket:
    if not perm.can_view_ticket(actor, _locked(ticket)):
        raise NotFound("No such ticket.")
    if not perm.can_assign(actor, ticket):
        raise PermissionDenied("Only administrators can assign tickets.")
    assignee = None
    if assignee_id is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or not assignee.active or not assignee.is_staff:
            raise InvalidInput(
                "Assign to an active technician or administrator.", field="assignee_id"
            )
    if ticket.assignee_id == (assignee.id if assignee else None):
        return ticket
    # The timeline shows people by name, as they were called at the time.
    old = ticket.assignee.display_name if ticket.assignee else None
    ticket.assignee_id = assignee.id if assignee else None
    ticket.assignee = assignee
    _event(
        ticket, actor, EventKind.ASSIGNED, old=old, new=assignee.display_name if assignee else None
    )
    return ticket


def _set_status(actor: User, ticket: Ticket, new_status: Status) -> None:
    old = ticket.status
    ticket.status = new_status
    now = utcnow()
    if new_status == Status.RESOLVED:
        ticket.resolved_at = now
    elif new_status == Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif new_status == Status.OPEN:  # reopened
        ticket.resolved_at = None
        ticket.closed_at = None
    _event(ticket, actor, EventKind.STATUS, old=old.value, new=new_status.value)


def change_status(actor: User, ticket: Ticket, new_status: Any) -> Ticket:
    if not perm.can_view_ticket(actor, _locked(ticket)):
        raise NotFound("No such ticket.")
    new_status = parse_enum(Status, new_status, "status")
    if new_status == ticket.status:
        return ticket
    if not perm.can_change_status(actor, ticket, new_status):
        raise PermissionDenied(
            f"You cannot move this ticket from {ticket.status.value} to {new_status.value}."
        )
    _set_status(actor, ticket, new_status)
    return ticket


def change_priority(actor: User, ticket: Ticket, priority: Any) -> Ticket:
    if not perm.can_view_ticket(actor, _locked(ticket)):
        raise NotFound("No such ticket.")
    priority = parse_enum(Priority, priority, "priority")
    if not perm.can_change_priority(actor, ticket):
        raise PermissionDenied("Only the assigned technician or an administrator can do that.")
    if priority == ticket.priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    _event(ticket, actor, EventKind.PRIORITY, old=old.value, new=priority.value)
    return ticket


def change_category(actor: User, ticket: Ticket, category_id: Any) -> Ticket:
    if not perm.can_view_ticket(actor, _locked(ticket)):
        raise NotFound("No such ticket.")
    if not perm.can_edit_category(actor, ticket):
        raise PermissionDenied("Only the assigned technician or an administrator can do that.")
    category = _active_category(category_id)
    if category.id == ticket.category_id:
        return ticket
    old = ticket.category.name
    ticket.category_id = category.id
    ticket.category = category
    _event(ticket, actor, EventKind.CATEGORY, old=old, new=category.name)
    return ticket


def add_comment(
    actor: User,
    ticket: Ticket,
    body: str,
    *,
    internal: bool = False,
    uploads: Sequence[Upload] = (),
) -> Comment:
    if not perm.can_view_ticket(actor, _locked(ticket)):
        raise NotFound("No such ticket.")
    internal = bool(internal)
    if not perm.can_comment(actor, ticket, internal=internal):
        raise PermissionDenied("Only staff can write internal notes.")
    if perm.closed_to_comment(ticket, internal=internal):
        raise InvalidInput("This ticket is closed; reopen it to add a comment.", field="body")
    body = _clean_body(body, "body")
    files = check_upload_count(uploads)
    comment = Comment(
        ticket_id=ticket.id,
        author_id=actor.id,
        body=body,
        body_html=render_markdown(body),
        internal=internal,
    )
    db.session.add(comment)
    db.session.flush()
    if not internal and actor.is_staff and actor.id != ticket.requester_id:
        ticket.first_response_at = ticket.first_response_at or utcnow()
    _event(
        ticket,
        actor,
        EventKind.NOTE if internal else EventKind.COMMENT,
        comment=comment,
        internal=internal,
    )
    _attach(actor, ticket, files, comment_id=comment.id, internal=internal)
    return comment
