"""Reading tickets: one ticket, its timeline, filtered and paged lists, counts.

Every read starts from `visible_tickets`, so a list can never hold a ticket its
reader could not open.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    SmallInteger,
    and_,
    func,
    or_,
    select,
    type_coerce,
)

from helpdesk.db import utcnow
from helpdesk.errors import InvalidInput, NotFound
from helpdesk.extensions import db
from helpdesk.inputs import id_arg
from helpdesk.tickets import counters, search
from helpdesk.tickets import permissions as perm
from helpdesk.tickets.audience import Audience
from helpdesk.tickets.models import (
    Priority,
    Status,
    Ticket,
    TicketEvent,
)
from helpdesk.users.models import User

PAGE_SIZE = 25


def parse_enum(enum_cls: Any, value: Any, field_name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise InvalidInput(
            "%(field)s must be one of: %(allowed)s.",
            field=field_name,
            allowed=allowed,
        ) from None


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


def visible_tickets(actor: User) -> Select[Ticket]:
    """The one query every list, search, count, dashboard and export starts from."""
    return select(Ticket).where(perm.visible_clause(actor))


def person_in_view(actor: User, user_id: int, role: str) -> User | None:
    """The person `user_id` if `actor` may see who they are as `role` ("requester" or
    "assignee") of tickets: themselves, or someone on a ticket the same visibility rule
    shows them. Filter summaries, dropdowns and export headers name people only
    through this, so an id typed into a URL never reveals a name."""
    person = db.session.get(User, user_id)
    if person is None or person.id == actor.id:
        return person
    column = Ticket.requester_id if role == "requester" else Ticket.assignee_id
    seen = db.session.scalar(
        visible_tickets(actor).with_only_columns(Ticket.id).where(column == user_id).limit(1)
    )
    return person if seen is not None else None


def timeline(actor: User, ticket: Ticket) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not perm.can_see_internal(actor):
        query = query.where(TicketEvent.internal.is_(False))
    return list(db.session.scalars(query.order_by(TicketEvent.id)))


# ---------------------------------------------------------------- lists


SORTS = ("newest", "oldest", "updated", "priority", "due")
# Service-level filters (helpdesk.sla): a running target past its due / due within the hour.
SLA_FILTERS = ("breached", "due_soon")
DUE_SOON = timedelta(hours=1)


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
    sla: str = ""

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
        if self.sla:
            args["sla"] = self.sla
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
            return id_arg(str(raw))
        except ValueError:
            raise InvalidInput("%(field)s must be a number.", field=key) from None

    statuses = [parse_enum(Status, s, "status").value for s in getlist("status")]
    priorities = [parse_enum(Priority, p, "priority").value for p in getlist("priority")]
    assignee = args.get("assignee") or None
    if assignee not in (None, "me", "none"):
        try:
            assignee = str(id_arg(str(assignee)))
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
    sla = args.get("sla") or ""
    if sla and sla not in SLA_FILTERS:
        raise InvalidInput(
            "sla must be one of: %(allowed)s.", field="sla", allowed=", ".join(SLA_FILTERS)
        )
    return TicketFilters(
        sla=sla,
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


def filtered_tickets(actor: User, filters: TicketFilters) -> Select[Ticket]:
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
    if filters.sla or filters.sort == "due":
        # Ranges of the next-due index; a ticket without a running target has none.
        now = utcnow()
        query = query.where(Ticket.sla_next_due.is_not(None))
        if filters.sla == "breached":
            query = query.where(Ticket.sla_next_due <= now)
        elif filters.sla == "due_soon":
            query = query.where(Ticket.sla_next_due > now, Ticket.sla_next_due <= now + DUE_SOON)
    if filters.q:
        query = search.search_tickets(query, filters.q, narrow=Audience.of(actor).only_requested)
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
        if sort in ("updated", "due"):
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
    id_col = search.id_column(filters.q, narrow=Audience.of(actor).only_requested)
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
    elif sort == "due":  # soonest (or longest breached) first
        query = query.order_by(Ticket.sla_next_due.asc(), Ticket.id.asc())
        if after:
            query = query.where(
                or_(
                    Ticket.sla_next_due > after[0],
                    and_(Ticket.sla_next_due == after[0], Ticket.id > after[1]),
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
        elif sort == "due":
            due = last.sla_next_due
            assert due is not None  # the due sort lists only tickets with one
            next_cursor = _encode_cursor([due.replace(tzinfo=None).isoformat(), last.id])
        else:
            rank = list(Priority).index(last.priority) + 1
            next_cursor = _encode_cursor([rank, last.id])
    return Page(rows, next_cursor)


def count_tickets(actor: User, filters: TicketFilters | None = None) -> int:
    query = filtered_tickets(actor, filters or TicketFilters())
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def status_counts(actor: User) -> dict[str, int]:
    """Tickets per status among those `actor` may see (maintained counters, no table scan)."""
    return counters.status_counts(actor)
