"""helpdesk.i18n.format_dt writes dates exactly as flask_babel.format_datetime does
(it only caches what Babel would look up again for every date)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask_babel import Babel, force_locale, format_datetime

from helpdesk.i18n import format_dt

FORMATS = ["short", "medium", "long", "full", "EEEE d 'de' MMMM y, HH:mm:ss", "yy-MM-dd hh a"]


def _instants() -> list[datetime]:
    rng = random.Random(20261127)
    start = datetime(1999, 12, 31, 23, 59, 59)
    picked = [start + timedelta(seconds=rng.randrange(40 * 365 * 86400)) for _ in range(300)]
    # Every month and every hour of the day at least once (names, am/pm, 12 vs 0).
    picked += [datetime(2026, m, 1, h, 5, 7) for m in range(1, 13) for h in range(24)]
    return picked + [datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)]  # aware input


@pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid", "America/Mexico_City"])
def test_format_dt_matches_babel(zone):
    app = Flask(__name__)
    Babel(app, default_timezone=zone)
    instants = _instants()
    with app.test_request_context():
        for locale in ("es", "en"):
            with force_locale(locale):
                for fmt in FORMATS:
                    for value in instants:
                        assert format_dt(value, fmt) == format_datetime(value, fmt), (
                            locale, fmt, value)  # fmt: skip


def test_format_dt_follows_the_locale_and_zone():
    app = Flask(__name__)
    Babel(app, default_timezone="Europe/Madrid")
    value = datetime(2026, 8, 3, 22, 15)  # UTC: already the 4th in Madrid
    with app.test_request_context():
        with force_locale("es"):
            assert format_dt(value, "long").startswith("4 de agosto de 2026")
        with force_locale("en"):
            assert format_dt(value, "long").startswith("August 4, 2026")
