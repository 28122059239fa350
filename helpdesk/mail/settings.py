"""Mail settings from the environment (documented in .env.example)."""

from __future__ import annotations

from typing import Any

from flask import current_app

DEFAULTS: dict[str, Any] = {
    # create: an unknown sender gets a `user` account without password;
    # refuse: they get a polite automatic answer and no ticket.
    "MAIL_UNKNOWN_SENDERS": "create",
    # reopen: a reply to a closed ticket reopens it (when the sender may);
    # new: it starts a new ticket that names the old one.
    "MAIL_CLOSED_REPLY": "new",
    "MAIL_IGNORE_LISTS": True,  # mail carrying List-Id makes no ticket
    "MAIL_SENDER_LIMIT_PER_HOUR": 20,
    "MAIL_MAX_MESSAGE_MB": 50,
    "MAIL_FROM": "",  # the desk's address when no relay row names one
    "MAIL_BASE_URL": "http://127.0.0.1:5000",  # links in mail
    "MAIL_ENCRYPTION_KEY": "",
    "MAIL_SEND_ATTEMPTS": 6,
    "MAIL_SMTP_TIMEOUT": 30,
}

_CHOICES = {"MAIL_UNKNOWN_SENDERS": ("create", "refuse"), "MAIL_CLOSED_REPLY": ("reopen", "new")}


def from_environ(environ: dict[str, str]) -> dict[str, Any]:
    """Validated MAIL_* settings; a bad value raises ValueError naming the key and
    what it may be (helpdesk.config turns it into its ConfigError)."""
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        raw = environ.get(key, "").strip()
        if not raw:
            out[key] = default
        elif isinstance(default, bool):
            out[key] = raw.lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            try:
                out[key] = max(1, int(raw))
            except ValueError:
                raise ValueError(f"{key}={raw!r} is not a whole number") from None
        else:
            if key in _CHOICES and raw not in _CHOICES[key]:
                raise ValueError(f"{key} must be one of {', '.join(_CHOICES[key])} (got {raw!r})")
            out[key] = raw
    return out


def get(key: str) -> Any:
    return current_app.config.get(key, DEFAULTS[key])
