"""Service-level figures for the dashboard and reports, through the one visibility rule.

Breached and at-risk counts are two ranges of indexed columns (`sla_next_due`,
`sla_next_warn`): a running target's warning never comes after its due, so the
tickets past their next warning include those past their next due, and "at risk"
is the difference.  Shares of targets met count the tickets created in a period
whose clock has stopped (met in time or late).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import visible_clause
from helpdesk.users.models import User


def as_naive_utc(instant: datetime) -> datetime:
    if instant.tzinfo is not None:
        instant = instant.astimezone(timezone.utc).replace(tzinfo=None)
    return instant


def _count(actor: User, *where: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(Ticket).where(visible_clause(actor), *where)
    return int(db.session.scalar(query) or 0)


def breached_and_at_risk(actor: User, now: datetime | None = None) -> dict[str, int]:
    now = as_naive_utc(now or utcnow())
    breached = _count(actor, Ticket.sla_next_due <= now)
    warned = _count(actor, Ticket.sla_next_warn <= now)
    return {"breached": breached, "at_risk": max(0, warned - breached)}


def _share(met: Any, decided: Any) -> float | None:
    return None if not decided else round(100.0 * int(met or 0) / int(decided), 1)


def met_shares(actor: User, first_day: date, last_day: date) -> dict[str, float | None]:
    """Percent of first responses and resolutions met in time, over the visible tickets
    created from `first_day` to `last_day` (UTC days, both included) whose clock stopped."""
    start = datetime.combine(first_day, datetime.min.time())
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
    row = db.session.execute(
        select(
            func.sum(case((Ticket.sla_response_met.is_(True), 1), else_=0)),
            func.count(Ticket.sla_response_met),
            func.sum(case((Ticket.sla_resolution_met.is_(True), 1), else_=0)),
            func.count(Ticket.sla_resolution_met),
        ).where(visible_clause(actor), Ticket.created_at >= start, Ticket.created_at < end)
    ).one()
    return {"first_response": _share(row[0], row[1]), "resolution": _share(row[2], row[3])}
