"""`socket_event`: the one wrapper every Socket.IO event handler goes through.

It re-checks the session on each event (the user loader runs per event, so a
changed session_version or a deactivation is seen at once), validates the
payload's shape, commits once on success, and always answers through the
acknowledgement — `{"ok": true, ...}` or `{"ok": false, "error": "..."}` —
so a bad payload never kills the connection silently.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from flask import g, request
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.errors import HelpdeskError, InvalidInput
from helpdesk.extensions import socketio
from helpdesk.realtime.state import SocketInfo, get_state
from helpdesk.transaction import unit_of_work

log = logging.getLogger(__name__)

# field name → (type, max length for str / max value for int)
Schema = Mapping[str, tuple[type, int]]
MAX_ID = 2**31 - 1


def validate(payload: Any, schema: Schema) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidInput("The request is malformed.")
    clean: dict[str, Any] = {}
    for name, (kind, limit) in schema.items():
        value = payload.get(name)
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
                raise InvalidInput("The request is malformed.", field=name)
        elif kind is bool:
            if not isinstance(value, bool):
                raise InvalidInput("The request is malformed.", field=name)
        elif kind is list:
            if (
                not isinstance(value, list)
                or len(value) > limit
                or not all(type(v) is int and 0 < v <= MAX_ID for v in value)
            ):
                raise InvalidInput("The request is malformed.", field=name)
        elif kind is str:
            if not isinstance(value, str):
                raise InvalidInput("The request is malformed.", field=name)
            if len(value) > limit:
                raise InvalidInput(
                    "That is too long: at most %(n)s characters.", n=limit, field=name
                )
        clean[name] = value
    return clean


# Every handler of ours, bound again to each new server: Flask-SocketIO's
# `socketio.on` registers on the *current* server only once one exists, and each
# create_app (tests, several apps per process) builds a new server.
REGISTRY: list[tuple[str, Callable[..., Any]]] = []


def on(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.append((name, fn))
        return fn

    return decorate


def bind(module: ModuleType) -> None:
    """Bind the handlers defined in `module` (a feature's events.py) to this app's server."""
    for name, fn in REGISTRY:
        if fn.__module__ == module.__name__:
            socketio.on(name)(fn)


def socket_id() -> str:
    """This event's socket id, which Flask-SocketIO adds to the request (so the
    request's type does not declare it)."""
    return str(request.sid)  # type: ignore[attr-defined]


def fresh_user() -> None:
    """Make Flask-Login load the user from the session again for this event
    (it caches on `g`, which an outer app context may share)."""
    g.pop("_login_user", None)


def best_effort(fn: Callable[[], Any], default: Any = None) -> Any:
    """Presence is best effort: a Redis outage must not refuse or break sockets."""
    try:
        return fn()
    except Exception:
        log.warning("presence store unavailable", exc_info=True)
        return default


def socket_event(
    name: str, schema: Schema | None = None, *, activity: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def handler(payload: Any = None, *_args: Any) -> dict[str, Any]:
            fresh_user()
            state = get_state()
            sock: SocketInfo | None = state.get(socket_id())
            if sock is None or not current_user.is_authenticated or current_user.id != sock.user_id:
                if sock is not None:
                    state.close(sock.sid, "revoked")
                return {"ok": False, "error": _("Your session has ended; please sign in again.")}
            try:
                with unit_of_work():  # commit once; roll back on any error
                    data = validate(payload, schema) if schema is not None else {}
                    if activity:
                        sock.last_activity = time.time()
                    result = fn(current_user._get_current_object(), sock, data)
            except HelpdeskError as exc:
                return {"ok": False, "error": str(exc.message), "field": exc.field}
            except Exception:
                log.exception("socket handler %s failed", name)
                return {"ok": False, "error": _("Something went wrong; please try again.")}
            return {"ok": True, **(result or {})}

        REGISTRY.append((name, handler))
        return handler

    return decorate
