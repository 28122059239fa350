"""Login sessions kept on the server (see auth/models.py for why)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from helpdesk.audit.services import record
from helpdesk.auth.models import LoginSession
from helpdesk.db import oldest_ids, once_committed, rowcount, utcnow
from helpdesk.errors import PermissionDenied
from helpdesk.extensions import db
from helpdesk.signals import user_sessions_revoked
from helpdesk.users.models import User


def open_login_session(
    user: User, *, ip: str | None, user_agent: str = "", lifetime_hours: int
) -> LoginSession:
    """A new server-side session for `user`; also drops this user's rows past their lifetime."""
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.created_at < utcnow() - timedelta(hours=lifetime_hours),
        )
    )
    row = LoginSession(
        id=secrets.token_hex(32),
        user_id=user.id,
        created_at=utcnow(),
        ip=ip,
        user_agent=(user_agent or "")[:255],
    )
    db.session.add(row)
    db.session.flush()
    return row


def login_session_valid(session_id: str | None, user_id: int) -> bool:
    if not session_id or not isinstance(session_id, str):
        return False
    row = db.session.get(LoginSession, session_id)
    return row is not None and row.user_id == user_id


def close_login_session(session_id: str | None) -> None:
    """Logout: the cookie that names this id is refused from now on, wherever it was copied."""
    if session_id and isinstance(session_id, str):
        db.session.execute(delete(LoginSession).where(LoginSession.id == session_id))
        db.session.flush()


SWEEP_BATCH = 1000  # rows per sweep run: a backlog is worked off run by run


def remove_expired_sessions(lifetime_hours: int, limit: int = SWEEP_BATCH) -> int:
    """Delete the oldest `limit` login sessions past their absolute lifetime (through
    the created_at index); returns how many."""
    cutoff = utcnow() - timedelta(hours=lifetime_hours)
    ids = oldest_ids(db.session, LoginSession.id, LoginSession.created_at, cutoff, limit)
    if ids:
        db.session.execute(delete(LoginSession).where(LoginSession.id.in_(ids)))
        db.session.flush()
    return len(ids)


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only administrators can manage users.")


def active_sessions(actor: User, user: User, *, lifetime_hours: int) -> list[LoginSession]:
    """The browsers where `user` is signed in (rows still within their lifetime)."""
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(
                LoginSession.user_id == user.id,
                LoginSession.created_at >= utcnow() - timedelta(hours=lifetime_hours),
            )
            .order_by(LoginSession.created_at.desc())
        )
    )


def sign_out_everywhere(actor: User, user: User) -> int:
    """End every session of `user`: the rows go (copied cookies are refused) and the
    session version moves on (open sockets close). Returns how many rows there were."""
    _require_admin(actor)
    ended = rowcount(
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    )
    user.session_version += 1
    # Open sockets are told once the change is stored (as for the users service's changes).
    once_committed(
        db.session, lambda: user_sessions_revoked.send(user, reason="signed_out_everywhere")
    )
    record("auth.signed_out_everywhere", actor=actor, target=user, sessions=ended)
    db.session.flush()
    return ended
