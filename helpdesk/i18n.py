"""Locale choice: the user's profile, else the language switch (session), else
Accept-Language, else DEFAULT_LOCALE."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

LOCALES = ("es", "en")


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    chosen = session.get("locale") if request else None
    if chosen in LOCALES:
        return str(chosen)
    match = request.accept_languages.best_match(LOCALES) if request else None
    return match or current_app.config.get("BABEL_DEFAULT_LOCALE", "es")


def js_strings() -> dict[str, str]:
    """Strings our scripts show, translated for this request.

    base.html renders them as a JSON block that `helpdesk.t(key)` reads; a feature
    whose script needs a sentence adds it here, so the catalogues hold it too.
    """
    from flask_babel import gettext as _

    return {
        "saved": _("Saved."),
        "error": _("Something went wrong. Please try again."),
        "offline": _("Connection lost. Trying to reconnect…"),
        "close": _("Close"),
        "dark_on": _("Dark mode is on."),
        "dark_off": _("Dark mode is off."),
    }
