"""Template helpers of the real-time layer: presence the viewer may know, unread counters."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Flask, g
from flask_login import current_user
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.realtime.presence import OFFLINE
from helpdesk.realtime.state import get_state
from helpdesk.users.models import User

log = logging.getLogger(__name__)


# Navbar counters ("notifications", "chat"), each registered by its own feature's
# init_app so the transport does not import the features.
UNREAD_COUNTERS: dict[str, Callable[[User], int]] = {}


def register_unread_counter(name: str, count: Callable[[User], int]) -> None:
    UNREAD_COUNTERS[name] = count


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
            return dict.fromkeys(UNREAD_COUNTERS, 0)
        if "realtime_unread" not in g:
            user = current_user._get_current_object()
            g.realtime_unread = {name: count(user) for name, count in UNREAD_COUNTERS.items()}
        return g.realtime_unread

    app.jinja_env.globals.update(
        presence_of=presence_of,
        presence_prefetch=presence_prefetch,
        realtime_unread=realtime_unread,
    )
