"""Domain errors raised by services; the app maps each to one HTTP status."""

from __future__ import annotations


class HelpdeskError(Exception):
    status_code = 400

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
