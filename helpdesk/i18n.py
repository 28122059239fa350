"""Locale choice: the user's profile, else the language switch (session), else
Accept-Language, else DEFAULT_LOCALE."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache

from babel import Locale
from babel.dates import (
    DateTimeFormat,
    get_date_format,
    get_datetime_format,
    get_time_format,
    parse_pattern,
)
from flask import current_app, request, session
from flask_babel import get_locale, get_timezone
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


# Dates. Babel formats every field of every date through its locale data, which
# cost a ticket page with 50 comments about a third of its time (55 dates at
# ~0.1 ms). We ask Babel once per (locale, format) for the pattern and, for the
# fields that name a month or a period, once per possible value; a date then
# costs one %-substitution. Fields we do not tabulate go to Babel as before.
# tests/test_i18n.py compares the result with Babel's own for many instants.

_NUMERIC = {
    "d": lambda v: v.day,
    "H": lambda v: v.hour,
    "h": lambda v: v.hour % 12 or 12,
    "m": lambda v: v.minute,
    "s": lambda v: v.second,
}


def _field(key: str, locale: Locale) -> Callable[[datetime], str]:
    char, width = key[0], len(key)
    if key != char * width:
        return lambda v: str(DateTimeFormat(v, locale)[key])
    if char in _NUMERIC and width <= 2:
        get, spec = _NUMERIC[char], f"%0{width}d"
        return lambda v: spec % get(v)
    if char == "y":
        if width == 2:
            return lambda v: f"{v.year % 100:02d}"
        spec = f"%0{width}d"
        return lambda v: spec % v.year
    if char in "ML":  # the month: digits or its name, from Babel
        months = [str(DateTimeFormat(datetime(2001, m, 1), locale)[key]) for m in range(1, 13)]
        return lambda v: months[v.month - 1]
    if char == "a":  # am / pm, from Babel
        periods = [str(DateTimeFormat(datetime(2001, 1, 1, h), locale)[key]) for h in range(24)]
        return lambda v: periods[v.hour]
    return lambda v: str(DateTimeFormat(v, locale)[key])


@lru_cache(maxsize=64)
def _compiled(
    locale: Locale, fmt: str
) -> tuple[str, tuple[tuple[str, Callable[[datetime], str]], ...]]:
    if fmt in ("full", "long", "medium", "short"):
        # Babel: the date-time pattern with its {0} (time) and {1} (date) filled.
        template = str(get_datetime_format(fmt, locale=locale)).replace("'", "").replace("%", "%%")
        template = template.replace("{0}", get_time_format(fmt, locale=locale).format)
        template = template.replace("{1}", get_date_format(fmt, locale=locale).format)
    else:
        template = parse_pattern(fmt).format
    keys = dict.fromkeys(re.findall(r"%\((\w+)\)s", template))
    return template, tuple((key, _field(key, locale)) for key in keys)


def format_dt(value: datetime, fmt: str = "medium") -> str:
    """`value` (naive means UTC) in the request's time zone and locale, as
    flask_babel.format_datetime writes it."""
    tz = get_timezone()
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(tz)
    if hasattr(tz, "normalize"):  # pytz
        value = tz.normalize(value)
    template, fields = _compiled(get_locale(), fmt)
    return template % {key: get(value) for key, get in fields}
