"""Locale choice for pages: the user's profile, else the language switch (session), else
Accept-Language, else DEFAULT_LOCALE.

What is made for a person rather than shown to a browser (exports, e-mails, job
results) follows `person_locale`: their profile language, else the desk default —
never the Accept-Language of whichever client happened to fetch it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

LOCALES = ("es", "en")
T = TypeVar("T")


def select_locale() -> str:
    # With the database down the signed-in person cannot be loaded: the page that says
    # so follows the language switch or the browser instead.
    database_down = bool(g.get("database_down")) if has_request_context() else False
    if (
        not database_down
        and current_user
        and current_user.is_authenticated
        and current_user.locale in LOCALES
    ):
        return str(current_user.locale)
    chosen = session.get("locale") if request else None
    if chosen in LOCALES:
        return str(chosen)
    match = request.accept_languages.best_match(LOCALES) if request else None
    return match or current_app.config.get("BABEL_DEFAULT_LOCALE", "es")


def person_locale(user: Any) -> str:
    """The language of things made for `user`: profile, else the desk default."""
    chosen = getattr(user, "locale", None)
    if chosen in LOCALES:
        return str(chosen)
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "es"))


def in_locale(locale: str, chunks: Iterable[T]) -> Iterator[T]:
    """Produce a streamed body's chunks with `locale` in force (labels, dates)."""
    from flask_babel import force_locale

    with force_locale(locale):
        yield from chunks


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
        "chars_count": _("%(n)s of %(max)s characters", n="{n}", max="{max}"),
        "chars_over": _(
            "%(over)s characters too many (at most %(max)s).", over="{over}", max="{max}"
        ),
    }
