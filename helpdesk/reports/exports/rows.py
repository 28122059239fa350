"""The export's columns and rows, shared by every format."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from helpdesk.audit.services import record
from helpdesk.db import utcnow
from helpdesk.errors import PermissionDenied
from helpdesk.extensions import db
from helpdesk.reports import permissions as perm
from helpdesk.reports.common import enum_value, user_label, where_clause
from helpdesk.reports.summary import filters_args
from helpdesk.tickets.labels import PRIORITY_LABELS, STATUS_LABELS
from helpdesk.tickets.models import Category, Priority, Status, Ticket
from helpdesk.tickets.queries import TicketFilters
from helpdesk.users.models import User

EXPORT_BATCH = 2000


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Defuse spreadsheet formulas (CVE-2019-14749 class): a leading apostrophe.

    Spreadsheet programs treat a cell starting with = + - @ (or tab / CR, which
    they strip first) as a formula; the apostrophe makes it plain text.
    """
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy string
    kind: str  # "text" | "datetime" | "number"
    width: int


# Which columns an export has. No descriptions and no comments: the export is a
# list of tickets, and leaving conversation text out means an internal note can
# never leak into a user's file.
EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", _l("Number"), "text", 17),
    Column("title", _l("Title"), "text", 50),
    Column("status", _l("Status"), "text", 13),
    Column("priority", _l("Priority"), "text", 10),
    Column("category", _l("Category"), "text", 22),
    Column("requester", _l("Requester"), "text", 22),
    Column("assignee", _l("Assignee"), "text", 22),
    Column("created_at", _l("Created (UTC)"), "datetime", 18),
    Column("updated_at", _l("Updated (UTC)"), "datetime", 18),
    Column("first_response_at", _l("First response (UTC)"), "datetime", 18),
    Column("resolved_at", _l("Resolved (UTC)"), "datetime", 18),
    Column("closed_at", _l("Closed (UTC)"), "datetime", 18),
    Column("first_response_hours", _l("First response (hours)"), "number", 12),
    Column("resolution_hours", _l("Resolution (hours)"), "number", 12),
    # Service levels: the due each clock was measured against and how it ended.
    Column("first_response_due", _l("First response due (UTC)"), "datetime", 18),
    Column("first_response_target", _l("First response target"), "text", 12),
    Column("resolution_due", _l("Resolution due (UTC)"), "datetime", 18),
    Column("resolution_target", _l("Resolution target"), "text", 12),
)


def export_query(actor: User, filters: TicketFilters) -> Any:
    """Plain columns (no ORM objects) of the filtered tickets, oldest first."""
    requester = aliased(User)
    assignee = aliased(User)
    return (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.title,
            Ticket.status,
            Ticket.priority,
            Category.name,
            requester.full_name,
            requester.username,
            assignee.full_name,
            assignee.username,
            Ticket.created_at,
            Ticket.updated_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
            Ticket.closed_at,
            Ticket.first_response_due,
            Ticket.sla_response_met,
            Ticket.resolution_due,
            Ticket.sla_resolution_met,
        )
        .join(Category, Category.id == Ticket.category_id)
        .join(requester, requester.id == Ticket.requester_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(where_clause(actor, filters))
        .order_by(Ticket.id)
    )


def check_export(actor: User, filters: TicketFilters) -> None:
    """Run the export's query for one row before a streamed download starts.

    Once the 200 and the first bytes are out, a failing query can only cut the
    download off; anything that would fail is raised here, as a proper error page.
    """
    if not perm.can_export(actor):
        raise PermissionDenied("You cannot export tickets.")
    db.session.execute(export_query(actor, filters).limit(1)).all()


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


def _naive(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value else None


def iter_export_rows(actor: User, filters: TicketFilters) -> Iterator[dict[str, Any]]:
    """The export's rows, fetched from the database in batches.

    `yield_per` turns on `stream_results`: PostgreSQL (psycopg) uses a named
    server-side cursor and MySQL/MariaDB (PyMySQL) an unbuffered SSCursor, so only
    one batch is in memory. SQLite ignores the option, but its cursor already
    steps through rows on demand. On MySQL the connection is busy until the rows
    are consumed: run no other query in the same session meanwhile.
    """
    if not perm.can_export(actor):
        raise PermissionDenied("You cannot export tickets.")
    status_labels = {s.value: str(STATUS_LABELS[s]) for s in Status}
    priority_labels = {p.value: str(PRIORITY_LABELS[p]) for p in Priority}
    target_words = {True: _("Met"), False: _("Missed"), None: ""}
    result = db.session.execute(
        export_query(actor, filters).execution_options(yield_per=EXPORT_BATCH)
    )
    for row in result:
        (
            _id,
            number,
            title,
            status,
            priority,
            category,
            req_name,
            req_user,
            asg_name,
            asg_user,
            created,
            updated,
            first,
            resolved,
            closed,
            response_due,
            response_met,
            resolution_due,
            resolution_met,
        ) = row
        created, updated = _naive(created), _naive(updated)
        first, resolved, closed = _naive(first), _naive(resolved), _naive(closed)
        yield {
            "number": number,
            "title": title,
            "status": status_labels[enum_value(status)],
            "priority": priority_labels[enum_value(priority)],
            "category": category,
            "requester": user_label(req_name, req_user),
            "assignee": user_label(asg_name, asg_user),
            "created_at": created,
            "updated_at": updated,
            "first_response_at": first,
            "resolved_at": resolved,
            "closed_at": closed,
            "first_response_hours": _hours(created, first),
            "resolution_hours": _hours(created, resolved),
            "first_response_due": _naive(response_due),
            "first_response_target": target_words[response_met],
            "resolution_due": _naive(resolution_due),
            "resolution_target": target_words[resolution_met],
        }


def export_filename(fmt: str, now: datetime | None = None) -> str:
    stamp = (now or utcnow()).strftime("%Y-%m-%d_%H%M")
    return f"tickets_{stamp}.{fmt}"


def record_export(
    actor: User,
    fmt: str,
    filters: TicketFilters,
    *,
    ip: str | None = None,
    rows: int | None = None,
    job: str | None = None,
) -> None:
    """Audit row for an export (the caller commits it before streaming starts, or with
    the export job it starts)."""
    detail: dict[str, Any] = {"format": fmt, "filters": filters_args(filters)}
    if rows is not None:
        detail["rows"] = rows
    if job is not None:
        detail["job"] = job
    record("report.export", actor=actor, ip=ip, **detail)


def iter_file(path: str, chunk: int = 64 * 1024, *, remove: bool = True) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while data := fh.read(chunk):
                yield data
    finally:
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
