"""Emit helpers: only after commit, only to named rooms, never fatal to the request."""

from __future__ import annotations

import logging
from typing import Any

from helpdesk.db import after_commit
from helpdesk.extensions import db, socketio

log = logging.getLogger(__name__)


def emit_now(event: str, payload: Any, room: str | list[str]) -> None:
    """Send at once. A message-queue outage (Redis down) is logged, never raised:
    the data is committed already and the page must still answer."""
    try:
        socketio.emit(event, payload, to=room)
    except Exception:  # the queue is an optional transport; HTTP keeps working
        log.exception("Socket.IO emit of %s failed", event)


def emit_after_commit(event: str, payload: Any, room: str | list[str]) -> None:
    """Queue an emit for when the current transaction commits; dropped on rollback."""
    after_commit(db.session, lambda: emit_now(event, payload, room))
