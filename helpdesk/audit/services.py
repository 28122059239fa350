"""Writing and reading the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from helpdesk.audit.models import AuditLog
from helpdesk.errors import PermissionDenied
from helpdesk.extensions import db
from helpdesk.users.models import User
from helpdesk.users.names import normalize_username


def record(
    action: str,
    *,
    actor: User | None = None,
    target: Any = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditLog:
    """Add an audit row to the current transaction (committed with the change it records)."""
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=getattr(target, "id", None),
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
        ip=ip,
    )
    db.session.add(entry)
    return entry


def audit_query(
    actor: User,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    ip: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
) -> Select[AuditLog]:
    """Newest first; `before` is the keyset cursor (an id). `action` ending in "." or
    "*" matches a family (e.g. "auth." for every sign-in event); `until` is exclusive."""
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can read the audit log.")
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if action:
        if action.endswith((".", "*")):
            prefix = action.rstrip("*")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditLog.action.like(escaped + "%", escape="\\"))
        else:
            query = query.where(AuditLog.action == action)
    if actor_id:
        query = query.where(AuditLog.actor_id == actor_id)
    if actor_name:
        query = query.where(
            AuditLog.actor_id.in_(
                select(User.id).where(User.username == normalize_username(actor_name))
            )
        )
    if ip:
        query = query.where(AuditLog.ip == ip.strip())
    if since:
        query = query.where(AuditLog.created_at >= since)
    if until:
        query = query.where(AuditLog.created_at < until)
    if before:
        query = query.where(AuditLog.id < before)
    return query


def known_actions() -> list[str]:
    """Actions recorded so far, for the filter's choices."""
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
