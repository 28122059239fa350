"""Domain errors raised by services; the app maps each to one HTTP status.

Services raise with English source text, e.g. ``InvalidInput("At most %(n)s files.", n=5)``.
`babel.cfg`'s extraction keywords put those literals into the catalogues, and
`message` translates them into the reader's language when shown (services never
know who reads the message, so translating at raise time would be wrong for
socket events and CLI output).
"""

from __future__ import annotations

from typing import Any


class HelpdeskError(Exception):
    status_code = 400

    def __init__(self, message: str = "", *, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self._message = message
        self.params = params
        self.field = field

    @property
    def message(self) -> str:
        from flask_babel import gettext

        if not self._message:
            return ""
        text = str(self._message)
        params = dict(self.params)
        if "%(field)s" in text:
            params.setdefault("field", self.field or "")
        # gettext outside a request (CLI) falls back to the source text; without
        # params no %-formatting happens, so a literal "%" stays safe.
        return gettext(text, **params) if params else gettext(text)

    @message.setter
    def message(self, value: str) -> None:
        self._message = value
        self.params = {}

    def __str__(self) -> str:
        return self.message

    def on_field(self, field: str) -> HelpdeskError:
        """The same error (still untranslated) shown on another form field."""
        return type(self)(self._message, field=field, **self.params)


class NotFound(HelpdeskError):
    status_code = 404


class PermissionDenied(HelpdeskError):
    status_code = 403


class InvalidInput(HelpdeskError):
    status_code = 400


class Conflict(HelpdeskError):
    status_code = 409


class PayloadTooLarge(HelpdeskError):
    status_code = 413


class TooManyRequests(HelpdeskError):
    """A rate or failure limit was reached; `retry_after` seconds until it lifts (the
    HTTP answer carries it as Retry-After)."""

    status_code = 429

    def __init__(self, message: str = "", *, retry_after: int = 60, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = max(1, int(retry_after))


class StorageUnavailable(InvalidInput):
    """The server cannot write what was sent (disk full, read-only). An InvalidInput,
    so forms come back with what was typed and this message on the field."""

    status_code = 503
