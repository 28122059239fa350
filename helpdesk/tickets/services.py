"""Every ticket state change goes through here: rules, permissions, timeline.

Services flush but never commit; the caller (view, socket handler, CLI) commits
once.  Each change writes a TicketEvent and sends `signals.ticket_event`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Select,
    SmallInteger,
    and_,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from helpdesk.attachments.services import Upload, check_upload_count, store_upload
from helpdesk.db import utcnow
from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.security.sanitize import render_markdown
from helpdesk.signals import ticket_event
from helpdesk.tickets import counters, search
from helpdesk.tickets import permissions as perm
from helpdesk.tickets.models import (
    Category,
    Comment,
    EventKind,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketSequence,
)
from helpdesk.users.models import Role, User

TITLE_MAX = 200
BODY_MAX = 20000
PAGE_SIZE = 25


# ---------------------------------------------------------------- helpers


def _parse(enum_cls: Any, value: Any, field_name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise InvalidInput(
            "%(field)s must be one of: %(allowed)s.",
            field=field_name,
            allowed=allowed,
        ) from None


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


def next_ticket_number(year: int | None = None) -> str:
    """Allocate TKT-<year>-<n>; never the same number twice, also under concurrency.

    The UPDATE takes the year row's write lock, so concurrent creators queue on it
    until the holder commits; the SELECT that follows in the same transaction reads
    the transaction's own write (PostgreSQL READ COMMITTED, InnoDB REPEATABLE READ
    and SQLite alike), so each creator gets its own value.
    """
    year = year or datetime.now(timezone.utc).year
    _ensure_sequence_row(year)
    db.session.execute(
        update(TicketSequence)
        .where(TicketSequence.year == year)
        .values(last_value=TicketSequence.last_value + 1)
        .execution_options(synchronize_session=False)
    )
    value = db.session.scalar(select(TicketSequence.last_value).where(TicketSequence.year == year))
    if value is None:  # the row vanished: only a hand-edited database gets here
        raise Conflict("Could not allocate a ticket number; try again.")
    return f"TKT-{year}-{value:06d}"


def _ensure_sequence_row(year: int) -> None:
    """Create the year's counter row the first time, without racing other creators.

    On MariaDB/MySQL, transactions that INSERT the same new key and then UPDATE it
    deadlock (each keeps a shared lock from the duplicate-key check) and InnoDB rolls
    the loser back whole, savepoint included. So the row is inserted and committed
    on a connection of its own and the request's transaction only ever UPDATEs it.
    SQLite has a single writer, so a savepoint is enough there (and a second
    connection would wait for our own write lock).
    """
    if db.session.scalar(select(TicketSequence.year).where(TicketSequence.year == year)):
        return
    if db.session.get_bind().dialect.name == "sqlite":
        try:
            with db.session.begin_nested():
                db.session.add(TicketSequence(year=year, last_value=0))
        except IntegrityError:
            pass  # another creator made it first
        return
    with db.engine.connect() as connection:
        try:
            connection.execute(insert(TicketSequence).values(year=year, last_value=0))
            connection.commit()
        except IntegrityError:
            connection.rollback()  # another creator made it first


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
        category = db.session.get(Category, int(category_id))
    except (TypeError, ValueError):
        category = None
    if category is None or not category.active:
        raise InvalidInput("Choose an active category.", field="category_id")
    return category


# ---------------------------------------------------------------- reading


def get_ticket(actor: User, ticket_id: int) -> Ticket:
    """The ticket if `actor` may see it; NotFound otherwise (existence is not revealed)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not perm.can_view_ticket(actor, ticket):
        raise NotFound("No such ticket.")
    return ticket


def get_ticket_by_number(actor: User, number: str) -> Ticket:
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number.strip().upper()))
    if ticket is None or not perm.can_view_ticket(actor, ticket):
        raise NotFound("No such ticket.")
    return ticket


def visible_tickets(actor: User) -> Select[tuple[Ticket]]:
    """The one query every list, search, count, dashboard and export starts from."""
    return select(Ticket).where(perm.visible_clause(actor))


def timeline(actor: User, ticket: Ticket) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not perm.can_see_internal(actor):
        query = query.where(TicketEvent.internal.is_(False))
    return list(db.session.scalars(query.order_by(TicketEvent.id)))


# ---------------------------------------------------------------- lists


SORTS = ("newest", "oldest", "updated", "priority")


@dataclass
class TicketFilters:
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    category_id: int | None = None
    assignee: str | None = None  # a user id, "me" or "none"
    requester_id: int | None = None
    q: str = ""
    sort: str = "newest"
    created_from: datetime | None = None
    created_to: datetime | None = None

    def as_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.status:
            args["status"] = self.status
        if self.priority:
            args["priority"] = self.priority
        for key in ("category_id", "assignee", "requester_id"):
            if getattr(self, key) not in (None, ""):
                args[key] = getattr(self, key)
        if self.q:
            args["q"] = self.q
        if self.sort != "newest":
            args["sort"] = self.sort
        return args


@dataclass
class Page:
    items: list[Ticket]
    next_cursor: str | None


def parse_filters(args: Any) -> TicketFilters:
    """Turn query-string arguments (a MultiDict or dict) into validated filters."""

    def getlist(key: str) -> list[str]:
        if hasattr(args, "getlist"):
            values = args.getlist(key)
        else:
            raw = args.get(key)
            values = raw if isinstance(raw, list) else ([raw] if raw else [])
        return [v for v in values if v]

    def int_or_none(key: str) -> int | None:
        raw = args.get(key)
        if raw in (None, ""):
            return None
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise InvalidInput("%(field)s must be a number.", field=key) from None

    statuses = [_parse(Status, s, "status").value for s in getlist("status")]
    priorities = [_parse(Priority, p, "priority").value for p in getlist("priority")]
    assignee = args.get("assignee") or None
    if assignee not in (None, "me", "none"):
        try:
            assignee = str(int(assignee))
        except (TypeError, ValueError):
            raise InvalidInput(
                "assignee must be a user id, me or none.", field="assignee"
            ) from None
    sort = args.get("sort") or "newest"
    if sort not in SORTS:
        raise InvalidInput(
            "sort must be one of: %(allowed)s.", field="sort", allowed=", ".join(SORTS)
        )
    q = (args.get("q") or "").strip()[:200]
    return TicketFilters(
        status=statuses,
        priority=priorities,
        category_id=int_or_none("category_id"),
        assignee=assignee,
        requester_id=int_or_none("requester_id"),
        q=q,
        sort=sort,
        created_from=_parse_date(args.get("created_from"), "created_from"),
        created_to=_parse_date(args.get("created_to"), "created_to"),
    )


def _parse_date(raw: Any, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput("%(field)s must be a date like 2026-01-31.", field=name) from None


def _narrow(actor: User) -> bool:
    """A plain user sees only their own tickets: few rows, whatever the table size."""
    return actor.role == Role.USER


def filtered_tickets(actor: User, filters: TicketFilters) -> Select[tuple[Ticket]]:
    query = visible_tickets(actor)
    if filters.status:
        query = query.where(Ticket.status.in_([Status(s) for s in filters.status]))
    if filters.priority:
        query = query.where(Ticket.priority.in_([Priority(p) for p in filters.priority]))
    if filters.category_id is not None:
        query = query.where(Ticket.category_id == filters.category_id)
    if filters.assignee == "me":
        query = query.where(Ticket.assignee_id == actor.id)
    elif filters.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(Ticket.assignee_id == int(filters.assignee))
    if filters.requester_id is not None:
        query = query.where(Ticket.requester_id == filters.requester_id)
    if filters.created_from is not None:
        query = query.where(Ticket.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Ticket.created_at < filters.created_to)
    if filters.q:
        query = search.search_tickets(query, filters.q, narrow=_narrow(actor))
    return query


def _encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or not all(
            isinstance(v, (int, str)) and not isinstance(v, bool) for v in values
        ):
            raise ValueError
        expected = 1 if sort in ("newest", "oldest") else 2
        if len(values) != expected or not isinstance(values[-1], int):
            raise ValueError
        if sort == "updated":
            values[0] = datetime.fromisoformat(values[0])
        elif sort == "priority" and not isinstance(values[0], int):
            raise ValueError
        return values
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidInput(
            "That page link is not valid; start from the first page.", field="cursor"
        ) from None


def list_tickets(
    actor: User,
    filters: TicketFilters,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One keyset page: WHERE (sort key, id) beyond the cursor, never OFFSET."""
    query = filtered_tickets(actor, filters)
    sort = filters.sort
    after = _decode_cursor(cursor, sort) if cursor else None
    priority_col = type_coerce(Ticket.priority, SmallInteger)  # the stored rank, not the enum
    id_col = search.id_column(filters.q, narrow=_narrow(actor))
    if sort == "newest":
        query = query.order_by(id_col.desc())
        if after:
            query = query.where(id_col < after[0])
    elif sort == "oldest":
        query = query.order_by(id_col.asc())
        if after:
            query = query.where(id_col > after[0])
    elif sort == "updated":
        query = query.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        if after:
            query = query.where(
                or_(
                    Ticket.updated_at < after[0],
                    and_(Ticket.updated_at == after[0], Ticket.id < after[1]),
                )
            )
    else:  # priority
        query = query.order_by(priority_col.desc(), Ticket.id.desc())
        if after:
            query = query.where(
                or_(priority_col < after[0], and_(priority_col == after[0], Ticket.id < after[1]))
            )
    rows = list(db.session.scalars(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        if sort in ("newest", "oldest"):
            next_cursor = _encode_cursor([last.id])
        elif sort == "updated":
            next_cursor = _encode_cursor(
                [last.updated_at.replace(tzinfo=None).isoformat(), last.id]
            )
        else:
            rank = list(Priority).index(last.priority) + 1
            next_cursor = _encode_cursor([rank, last.id])
    return Page(rows, next_cursor)


def count_tickets(actor: User, filters: TicketFilters | None = None) -> int:
    query = filtered_tickets(actor, filters or TicketFilters())
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


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
    priority = _parse(Priority, priority or Priority.MEDIUM, "priority")
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
    for upload in files:
        attachment = store_upload(actor, ticket.id, upload)
        _event(
            ticket,
            actor,
            EventKind.ATTACHMENT,
            new=attachment.original_name,
            attachment_id=attachment.id,
        )
    return ticket


def take_ticket(actor: User, ticket: Ticket) -> Ticket:
    if not perm.can_view_ticket(actor, ticket):
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
    if result.rowcount != 1:
        raise Conflict("Someone else has already taken this ticket.")
    db.session.refresh(ticket)
    _event(ticket, actor, EventKind.ASSIGNED, old=None, new=actor.display_name)
    if ticket.status == Status.OPEN:
        _set_status(actor, ticket, Status.IN_PROGRESS)
    return ticket


def assign_ticket(actor: User, ticket: Ticket, assignee_id: int | None) -> Ticket:
    if not perm.can_view_ticket(actor, ticket):
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
    if not perm.can_view_ticket(actor, ticket):
        raise NotFound("No such ticket.")
    new_status = _parse(Status, new_status, "status")
    if new_status == ticket.status:
        return ticket
    if not perm.can_change_status(actor, ticket, new_status):
        raise PermissionDenied(
            f"You cannot move this ticket from {ticket.status.value} to {new_status.value}."
        )
    _set_status(actor, ticket, new_status)
    return ticket


def change_priority(actor: User, ticket: Ticket, priority: Any) -> Ticket:
    if not perm.can_view_ticket(actor, ticket):
        raise NotFound("No such ticket.")
    priority = _parse(Priority, priority, "priority")
    if not perm.can_change_priority(actor, ticket):
        raise PermissionDenied("Only the assigned technician or an administrator can do that.")
    if priority == ticket.priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    _event(ticket, actor, EventKind.PRIORITY, old=old.value, new=priority.value)
    return ticket


def change_category(actor: User, ticket: Ticket, category_id: Any) -> Ticket:
    if not perm.can_view_ticket(actor, ticket):
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
    if not perm.can_view_ticket(actor, ticket):
        raise NotFound("No such ticket.")
    internal = bool(internal)
    if not perm.can_comment(actor, ticket, internal=internal):
        raise PermissionDenied("Only staff can write internal notes.")
    if ticket.is_closed and not internal:
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
    for upload in files:
        attachment = store_upload(
            actor, ticket.id, upload, comment_id=comment.id, internal=internal
        )
        _event(
            ticket,
            actor,
            EventKind.ATTACHMENT,
            new=attachment.original_name,
            attachment_id=attachment.id,
            internal=internal,
        )
    return comment


# ---------------------------------------------------------------- categories


def _require_category_admin(actor: User) -> None:
    if not perm.can_manage_categories(actor):
        raise PermissionDenied("Only administrators can manage categories.")


def _clean_category_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("A name is required.", field="name")
    if len(name) > 80:
        raise InvalidInput("At most 80 characters.", field="name")
    return name


def _check_category_name_free(name: str, exclude_id: int | None = None) -> None:
    query = select(Category.id).where(func.lower(Category.name) == name.lower())
    if exclude_id is not None:
        query = query.where(Category.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise Conflict("A category named %(name)s already exists.", field="name", name=name)


def list_categories(*, active_only: bool = True) -> list[Category]:
    query = select(Category).order_by(Category.name)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(db.session.scalars(query))


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("No such category.")
    return category


def create_category(actor: User | None, name: str, description: str = "") -> Category:
    if actor is not None:
        _require_category_admin(actor)
    name = _clean_category_name(name)
    _check_category_name_free(name)
    category = Category(name=name, description=(description or "").strip()[:255], active=True)
    db.session.add(category)
    db.session.flush()
    return category


def update_category(
    actor: User,
    category: Category,
    *,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> Category:
    _require_category_admin(actor)
    if name is not None:
        name = _clean_category_name(name)
        _check_category_name_free(name, exclude_id=category.id)
        category.name = name
    if description is not None:
        category.description = description.strip()[:255]
    if active is not None:
        category.active = active
    db.session.flush()
    return category


def delete_category(actor: User, category: Category) -> None:
    _require_category_admin(actor)
    in_use = db.session.scalar(select(Ticket.id).where(Ticket.category_id == category.id).limit(1))
    if in_use is not None:
        raise Conflict("This category is used by tickets; deactivate it instead of deleting it.")
    db.session.delete(category)
    db.session.flush()


def status_counts(actor: User) -> dict[str, int]:
    """Tickets per status among those `actor` may see (maintained counters, no table scan)."""
    return counters.status_counts(actor)
