"""Pure predicates of the socket transport (which origins may connect).

Who may join a feature's rooms is that feature's own predicate
(e.g. `tickets.permissions.can_watch_ticket`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit


def same_origins(environ: Mapping[str, Any]) -> set[str]:
    """The origin of the page that served us: scheme://host of this very request.

    Behind a proxy the scheme comes from ProxyFix (TRUSTED_PROXIES), which has already
    rewritten `wsgi.url_scheme`; raw X-Forwarded-* headers are never read here, since
    anyone can send them."""
    host = environ.get("HTTP_HOST")
    if not host:
        return set()
    return {f"{environ.get('wsgi.url_scheme', 'http')}://{host}"}


def origin_allowed(origin: str | None, environ: Mapping[str, Any], extra: Iterable[str]) -> bool:
    """Same origin, or one listed in SOCKETIO_ALLOWED_ORIGINS; never any origin.

    A missing Origin is accepted: browsers always send it on WebSocket and
    cross-origin requests (the cross-site cases), and omit it only on
    same-origin long-polling GETs. Some non-browser WebSocket clients send the
    header twice (joined with ","); that passes only if every copy is allowed.
    """
    if not origin:
        return True
    allowed = {o.lower().rstrip("/") for o in (*same_origins(environ), *extra)}
    for one in origin.split(","):
        parts = urlsplit(one.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if f"{parts.scheme}://{parts.netloc}".lower() not in allowed:
            return False
    return True
