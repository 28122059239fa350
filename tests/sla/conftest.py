"""Fixtures for service levels: the desk's defaults and the issue's office calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from helpdesk.extensions import db
from helpdesk.sla import services as sla

MADRID = ZoneInfo("Europe/Madrid")
OFFICE_HOURS = {d: "09:00-18:00" for d in range(5)}


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)


@pytest.fixture
def defaults(app):
    policy = sla.ensure_defaults()
    db.session.commit()
    return policy


@pytest.fixture
def office(app, people, defaults):
    """Mon–Fri 09:00–18:00 Madrid with Spain's 2026 holidays; urgent answered within
    1 working hour and resolved within 8; paused while waiting; placed first."""
    admin = people["admin"]
    cal = sla.create_calendar(admin, name="Madrid office", zone="Europe/Madrid", hours=OFFICE_HOURS)
    sla.prefill_holidays(admin, cal.id, "ES", 2026)
    policy = sla.create_policy(
        admin,
        name="Office hours",
        calendar_id=cal.id,
        targets={
            "urgent": (60, 8 * 60),
            "high": (4 * 60, 2 * 9 * 60),
            "medium": (9 * 60, 5 * 9 * 60),
            "low": (None, None),
        },
        category_ids=[],
        pause_when_waiting=True,
        warn_percent=80,
        notify_admins=False,
    )
    sla.move_policy(admin, policy.id, -1)
    db.session.commit()
    return policy


@pytest.fixture
def at():
    """`with at(madrid(2026, 11, 13, 17, 30)):` — the wall clock of the whole process."""

    def travel(instant: datetime):  # type: ignore[no-untyped-def]
        return time_machine.travel(instant, tick=False)

    return travel
