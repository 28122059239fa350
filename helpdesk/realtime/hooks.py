"""Signal receivers and template helpers of the real-time layer."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import Flask, g
from flask_login import current_user
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.realtime.presence import OFFLINE
from helpdesk.realtime.state import get_state
from helpdesk.signals import ticket_event, user_sessions_revoked
from helpdesk.users.models import User

log = logging.getLogger(__name__)


def _on_ticket_event(ticket: Any, **kwargs: Any) -> None:
    from helpdesk.notifications.services import on_ticket_event
    from helpdesk.realtime.services import ticket_changed

    on_ticket_event(ticket, **kwargs)
    ticket_changed(ticket, kwargs["event"])


def _on_sessions_revoked(user: User, **kwargs: Any) -> None:
    """Logout ends that session's sockets; deactivation, role change or password reset
    end all of the person's (the session_version moved).

    Sent after commit, so the database already says which sessions ended: this
    process closes its sockets now; every other process sees the same on its next
    check (REALTIME_CHECK_SECONDS).
    """
    try:
        get_state().check_sessions_now(user.id)
    except Exception:
        log.exception("could not close the sockets of user %s", user.id)


def connect_signals() -> None:
    # blinker keeps one connection per receiver, so repeated app creation is harmless.
    ticket_event.connect(_on_ticket_event, weak=False)
    user_sessions_revoked.connect(_on_sessions_revoked, weak=False)


def visible_statuses(viewer: User, user_ids: Iterable[int]) -> dict[int, str]:
    """Presence the viewer may know: staff see everyone, users see staff only."""
    ids = list(dict.fromkeys(int(i) for i in user_ids))
    if not ids:
        return {}
    if not viewer.is_staff:
        from helpdesk.users.models import STAFF_ROLES

        ids = list(
            db.session.scalars(
                select(User.id).where(User.id.in_(ids), User.role.in_(list(STAFF_ROLES)))
            )
        )
    try:
        return get_state().presence.statuses(ids)
    except Exception:
        log.warning("presence store unavailable", exc_info=True)
        return dict.fromkeys(ids, OFFLINE)


def register_template_helpers(app: Flask) -> None:
    def presence_of(user: User | None) -> str | None:
        """Status of `user` for the current viewer, or None when they may not know it."""
        if user is None or not current_user.is_authenticated:
            return None
        cache = g.setdefault("presence_cache", {})
        if user.id not in cache:
            if not current_user.is_staff and not user.is_staff:
                cache[user.id] = None
            else:
                try:
                    cache[user.id] = get_state().presence.status(user.id)
                except Exception:
                    cache[user.id] = OFFLINE
        return cache[user.id]

    def presence_prefetch(users: Iterable[User]) -> str:
        """Fill the per-request cache in one round trip (lists of people)."""
        if current_user.is_authenticated:
            people = [u for u in users if u is not None]
            g.setdefault("presence_cache", {}).update(
                visible_statuses(current_user._get_current_object(), [u.id for u in people])
            )
        return ""

    def realtime_unread() -> dict[str, int]:
        """Bell and chat counters for the navbar (so they are right right after a reload)."""
        if not current_user.is_authenticated:
            return {"notifications": 0, "chat": 0}
        if "realtime_unread" not in g:
            from helpdesk.chat.services import unread_total
            from helpdesk.notifications.services import unread_count

            user = current_user._get_current_object()
            g.realtime_unread = {"notifications": unread_count(user), "chat": unread_total(user)}
        return g.realtime_unread

    app.jinja_env.globals.update(
        presence_of=presence_of,
        presence_prefetch=presence_prefetch,
        realtime_unread=realtime_unread,
    )
