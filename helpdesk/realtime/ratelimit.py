"""Rate limits kept in services and socket events (Flask-Limiter only wraps HTTP views).

Uses the same `limits` storage as Flask-Limiter (Redis when REDIS_URL is set, so
the limit holds across processes). If that storage fails, the event is allowed:
a Redis outage must not stop people from talking.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class SocketRateLimiter:
    def __init__(self, app: Flask) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        self.prefix = app.config.get("REDIS_PREFIX", "helpdesk") + ":rl"
        options = (
            {"socket_timeout": 1, "socket_connect_timeout": 1} if uri.startswith("redis") else {}
        )
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))

    def test(self, rule: str, *identifiers: object) -> bool:
        """Whether one more hit would still be allowed (counts nothing)."""
        try:
            return self.limiter.test(parse(rule), self.prefix, *map(str, identifiers))
        except Exception:
            log.warning("rate limit storage unavailable; allowing", exc_info=True)
            return True

    def retry_after(self, rule: str, *identifiers: object) -> int:
        """Seconds until the window of `rule` frees a place."""
        try:
            stats = self.limiter.get_window_stats(parse(rule), self.prefix, *map(str, identifiers))
            return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:
            return 60

    def hit(self, rule: str, *identifiers: object) -> bool:
        try:
            return self.limiter.hit(parse(rule), self.prefix, *map(str, identifiers))
        except Exception:
            log.warning("socket rate limit storage unavailable; allowing", exc_info=True)
            return True


def get_limiter() -> SocketRateLimiter:
    ext = current_app.extensions
    if "helpdesk_socket_limits" not in ext:
        ext["helpdesk_socket_limits"] = SocketRateLimiter(current_app)
    return ext["helpdesk_socket_limits"]
