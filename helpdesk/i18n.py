"""Locale choice: the user's profile, else Accept-Language, else DEFAULT_LOCALE."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

LOCALES = ("es", "en")


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    match = request.accept_languages.best_match(LOCALES) if request else None
    return match or current_app.config.get("BABEL_DEFAULT_LOCALE", "es")
