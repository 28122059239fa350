"""Business-time arithmetic: a table of cases worked out by hand, then properties.

Every expected instant in the table was computed on paper from the calendar's
wall-clock hours and the zone's offsets on that date (Madrid: CET +01 in winter,
CEST +02 from 2026-03-29 02:00 to 2026-10-25 03:00; Santiago: -03 in summer,
-04 from 2026-04-05 00:00 back to 23:00 the day before, -03 again from
2026-09-06 when 00:00 jumps to 01:00).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.sla import business_time as bt
from helpdesk.sla.business_time import Calendar

UTC = timezone.utc
MADRID = ZoneInfo("Europe/Madrid")
SANTIAGO = ZoneInfo("America/Santiago")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def office(zone: str, *, holidays=(), yearly=(), days=range(5), ranges=None) -> Calendar:
    ranges = ranges or ((time(9), time(18)),)
    return Calendar(
        zone=zone,
        weekly=dict.fromkeys(days, tuple(ranges)),
        holidays=frozenset(holidays),
        yearly_holidays=frozenset(yearly),
    )


def at(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold).astimezone(UTC)


def u(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MADRID_OFFICE = office("Europe/Madrid")
SPLIT_DAY = office("UTC", ranges=((time(9), time(13)), (time(15), time(18))))
NIGHT_SHIFT = office("UTC", ranges=((time(22), time(6)),))
# Monday, Tuesday, Thursday, Friday: Wednesday has no hours at all.
NO_WEDNESDAY = office("UTC", days=(0, 1, 3, 4))
HOLIDAY_MONDAY = office("UTC", holidays=[date(2026, 11, 16)])
CHRISTMAS = office("UTC", yearly=[(12, 25)])
EVENING_TO_MIDNIGHT = Calendar(
    zone="UTC", weekly={0: ((time(20), time(0)),), 1: ((time(0), time(2)),)}
)
MADRID_24x7 = Calendar.always_open("Europe/Madrid")
SANTIAGO_24x7 = Calendar.always_open("America/Santiago")
SANTIAGO_OFFICE = office("America/Santiago")

# (name, calendar, start, business duration, expected due)
ADD_CASES = [
    # The scenario: 30 min left on Friday, 30 min on Monday morning.
    (
        "friday 17:30 + 1 h is monday 09:30",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 13, 17, 30),
        H,
        at(MADRID, 2026, 11, 16, 9, 30),
    ),
    (
        "filed on saturday starts monday",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 14, 11),
        2 * H,
        at(MADRID, 2026, 11, 16, 11),
    ),
    (
        "filed before opening",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 16, 7),
        30 * M,
        at(MADRID, 2026, 11, 16, 9, 30),
    ),
    (
        "due exactly at closing",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 16, 17),
        H,
        at(MADRID, 2026, 11, 16, 18),
    ),
    (
        "zero duration when closed waits for opening",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 14, 11),
        timedelta(0),
        at(MADRID, 2026, 11, 16, 9),
    ),
    # DST forward in Madrid (Sunday 29 March): Friday CET, Monday CEST.
    (
        "office across spring DST",
        MADRID_OFFICE,
        at(MADRID, 2026, 3, 27, 17),
        2 * H,
        u(2026, 3, 30, 8),
    ),
    # 24×7: a business day on the DST Sunday lasts 23 real hours, a target is real time.
    ("24x7 across spring DST", MADRID_24x7, u(2026, 3, 28, 11), 24 * H, u(2026, 3, 29, 11)),
    ("24x7 across autumn DST", MADRID_24x7, u(2026, 10, 24, 10), 24 * H, u(2026, 10, 25, 10)),
    # Santiago: the office hours keep their wall clock across its April change.
    (
        "santiago office across april DST",
        SANTIAGO_OFFICE,
        at(SANTIAGO, 2026, 4, 3, 17),
        2 * H,
        u(2026, 4, 6, 14),
    ),
    (
        "santiago 24x7 across september DST",
        SANTIAGO_24x7,
        u(2026, 9, 5, 16),
        24 * H,
        u(2026, 9, 6, 16),
    ),
    ("split day skips lunch", SPLIT_DAY, u(2026, 11, 16, 12), 2 * H, u(2026, 11, 16, 16)),
    ("split day from lunch", SPLIT_DAY, u(2026, 11, 16, 13, 30), H, u(2026, 11, 16, 16)),
    # Night shift: Friday 22:00 runs to Saturday 06:00; nothing opens on Saturday.
    ("overnight into saturday", NIGHT_SHIFT, u(2026, 11, 13, 23), 5 * H, u(2026, 11, 14, 4)),
    (
        "inside thursday's overnight range",
        NIGHT_SHIFT,
        u(2026, 11, 13, 5),
        2 * H,
        u(2026, 11, 13, 23),
    ),
    ("overnight over the weekend", NIGHT_SHIFT, u(2026, 11, 14, 5), 3 * H, u(2026, 11, 17, 0)),
    ("midnight 24x7", Calendar.always_open(), u(2026, 11, 16, 23, 30), H, u(2026, 11, 17, 0, 30)),
    (
        "range ending at 24:00 meets next day's",
        EVENING_TO_MIDNIGHT,
        u(2026, 11, 16, 23, 30),
        H,
        u(2026, 11, 17, 0, 30),
    ),
    ("zero-hour wednesday", NO_WEDNESDAY, u(2026, 11, 17, 17), 2 * H, u(2026, 11, 19, 10)),
    ("holiday on a monday", HOLIDAY_MONDAY, u(2026, 11, 13, 17, 30), H, u(2026, 11, 17, 9, 30)),
    ("yearly christmas on a friday", CHRISTMAS, u(2026, 12, 24, 17), 2 * H, u(2026, 12, 28, 10)),
    ("yearly christmas next year too", CHRISTMAS, u(2027, 12, 24, 17), 2 * H, u(2027, 12, 27, 10)),
    # 45 business hours a week: 50 h from Monday 09:00 is the next Monday 14:00.
    ("target longer than a week", office("UTC"), u(2026, 11, 16, 9), 50 * H, u(2026, 11, 23, 14)),
    ("two weeks and a day", office("UTC"), u(2026, 11, 16, 9), 100 * H, u(2026, 12, 1, 10)),
    (
        "14 days on 24x7",
        Calendar.always_open(),
        u(2026, 11, 16, 9),
        14 * 24 * H,
        u(2026, 11, 30, 9),
    ),
]


@pytest.mark.parametrize(
    ("cal", "start", "duration", "due"),
    [c[1:] for c in ADD_CASES],
    ids=[c[0] for c in ADD_CASES],
)
def test_add_by_hand(cal, start, duration, due):
    assert bt.add(cal, start, duration) == due
    # Measuring back gives the target (a zero target waits, but measures zero).
    assert bt.between(cal, start, due) == duration


BETWEEN_CASES = [
    (
        "madrid office weekend",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 13, 17),
        at(MADRID, 2026, 11, 16, 10),
        2 * H,
    ),
    # Spring Sunday: 01:00 CET to 04:00 CEST is 2 real hours.
    (
        "range over the skipped hour",
        Calendar(zone="Europe/Madrid", weekly={6: ((time(1), time(4)),)}),
        u(2026, 3, 28),
        u(2026, 3, 30),
        2 * H,
    ),
    # 02:30 does not exist that night: the range opens at 03:00 CEST.
    (
        "range opening inside the skipped hour",
        Calendar(zone="Europe/Madrid", weekly={6: ((time(2, 30), time(5)),)}),
        u(2026, 3, 28),
        u(2026, 3, 30),
        2 * H,
    ),
    (
        "range wholly inside the skipped hour",
        Calendar(zone="Europe/Madrid", weekly={6: ((time(2, 10), time(2, 50)),)}),
        u(2026, 3, 28),
        u(2026, 3, 30),
        timedelta(0),
    ),
    # Autumn Sunday: 00:00 CEST to 06:00 CET is 7 real hours.
    (
        "range over the repeated hour",
        Calendar(zone="Europe/Madrid", weekly={6: ((time(0), time(6)),)}),
        u(2026, 10, 24),
        u(2026, 10, 26),
        7 * H,
    ),
    (
        "24x7 autumn Sunday lasts 25 hours",
        MADRID_24x7,
        at(MADRID, 2026, 10, 25),
        at(MADRID, 2026, 10, 26),
        25 * H,
    ),
    (
        "24x7 spring Sunday lasts 23 hours",
        MADRID_24x7,
        at(MADRID, 2026, 3, 29),
        at(MADRID, 2026, 3, 30),
        23 * H,
    ),
    # Santiago's September Sunday has no 00:00: 00:00–02:00 is one real hour.
    (
        "santiago missing midnight",
        Calendar(zone="America/Santiago", weekly={6: ((time(0), time(2)),)}),
        u(2026, 9, 5),
        u(2026, 9, 7),
        H,
    ),
    # Santiago's April Saturday has 23:00–24:00 twice: 22:00–24:00 is 3 real hours.
    (
        "santiago repeated hour",
        Calendar(zone="America/Santiago", weekly={5: ((time(22), time(0)),)}),
        u(2026, 4, 3),
        u(2026, 4, 6),
        3 * H,
    ),
    (
        "overlapping ranges count once",
        Calendar(zone="UTC", weekly={0: ((time(22), time(6)),), 1: ((time(5), time(7)),)}),
        u(2026, 11, 16),
        u(2026, 11, 18),
        9 * H,
    ),
    (
        "evening to midnight and on",
        EVENING_TO_MIDNIGHT,
        u(2026, 11, 16, 20),
        u(2026, 11, 17, 2),
        6 * H,
    ),
    (
        "backwards is negative",
        MADRID_OFFICE,
        at(MADRID, 2026, 11, 16, 10),
        at(MADRID, 2026, 11, 13, 17),
        -2 * H,
    ),
    ("closed calendar has none", Calendar(zone="UTC"), u(2026, 1, 1), u(2026, 2, 1), timedelta(0)),
]


@pytest.mark.parametrize(
    ("cal", "a", "b", "expected"),
    [c[1:] for c in BETWEEN_CASES],
    ids=[c[0] for c in BETWEEN_CASES],
)
def test_between_by_hand(cal, a, b, expected):
    assert bt.between(cal, a, b) == expected


def test_pause_and_resume_across_a_weekend():
    # Due Friday 17:00; paused Friday 16:00 with 1 h left; resumed Monday 10:00.
    due = at(MADRID, 2026, 11, 13, 17)
    left = bt.remaining(MADRID_OFFICE, at(MADRID, 2026, 11, 13, 16), due)
    assert left == H
    assert bt.resume(MADRID_OFFICE, at(MADRID, 2026, 11, 16, 10), left) == at(
        MADRID, 2026, 11, 16, 11
    )
    # Paused Friday 17:00 with the due on Monday 10:00: 2 h left; resumed on Saturday.
    left = bt.remaining(MADRID_OFFICE, at(MADRID, 2026, 11, 13, 17), at(MADRID, 2026, 11, 16, 10))
    assert left == 2 * H
    assert bt.resume(MADRID_OFFICE, at(MADRID, 2026, 11, 14, 12), left) == at(
        MADRID, 2026, 11, 16, 11
    )


def test_resume_after_breach_stays_breached_by_as_much():
    left = bt.remaining(MADRID_OFFICE, at(MADRID, 2026, 11, 16, 12), at(MADRID, 2026, 11, 16, 10))
    assert left == -2 * H
    now = at(MADRID, 2026, 11, 17, 9)
    assert bt.resume(MADRID_OFFICE, now, left) == now - 2 * H


def test_is_open_counts_the_closing_instant():
    assert bt.is_open(MADRID_OFFICE, at(MADRID, 2026, 11, 16, 18))
    assert bt.is_open(MADRID_OFFICE, at(MADRID, 2026, 11, 16, 9))
    assert not bt.is_open(MADRID_OFFICE, at(MADRID, 2026, 11, 16, 18, 1))
    assert not bt.is_open(MADRID_OFFICE, at(MADRID, 2026, 11, 15, 12))  # Sunday


def test_naive_instants_are_utc():
    assert bt.add(office("UTC"), datetime(2026, 11, 13, 17, 30), H) == u(2026, 11, 16, 9, 30)


def test_closed_calendar_cannot_give_a_due():
    with pytest.raises(bt.NoBusinessTime):
        bt.add(Calendar(zone="UTC"), u(2026, 1, 1), H)
    assert not Calendar(zone="UTC").has_hours


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        bt.add(MADRID_OFFICE, u(2026, 1, 1), -H)
    with pytest.raises(ValueError):
        Calendar(zone="UTC", weekly={7: ()})
    with pytest.raises(Exception):  # noqa: B017 — ZoneInfoNotFoundError is a KeyError
        Calendar(zone="Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="09:00-18:00"):
        bt.parse_ranges("9 to 5")
    with pytest.raises(ValueError):
        bt.parse_ranges("25:00-26:00")


def test_ranges_text_round_trips():
    ranges = bt.parse_ranges("09:00-13:00, 15:00-18:00")
    assert ranges == ((time(9), time(13)), (time(15), time(18)))
    assert bt.format_ranges(ranges) == "09:00-13:00, 15:00-18:00"
    assert bt.parse_ranges("22:00-06:00") == ((time(22), time(6)),)
    assert bt.format_ranges(bt.parse_ranges("00:00-24:00")) == "00:00-24:00"
    assert bt.parse_ranges(" ") == ()


# ---------------------------------------------------------------- properties

ZONES = ["UTC", "Europe/Madrid", "America/Santiago", "America/New_York", "Australia/Lord_Howe"]
minutes_of_day = st.integers(min_value=0, max_value=24 * 60 - 1).map(
    lambda m: time(m // 60, m % 60)
)
ranges_st = st.lists(st.tuples(minutes_of_day, minutes_of_day), max_size=3).map(tuple)


@st.composite
def calendars(draw) -> Calendar:
    weekly = {d: draw(ranges_st) for d in range(7)}
    # At least a working day a week, so a 10-day target ends within months
    # (a calendar open one minute a week is legal, just slow to walk here).
    weekly[draw(st.integers(0, 6))] += ((time(9), time(17)),)
    holidays = draw(
        st.frozensets(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
                      max_size=20)
    )  # fmt: skip
    yearly = draw(st.frozensets(st.tuples(st.integers(1, 12), st.integers(1, 28)), max_size=5))
    return Calendar(zone=draw(st.sampled_from(ZONES)), weekly=weekly, holidays=holidays,
                    yearly_holidays=yearly)  # fmt: skip


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=10 * 24 * 60).map(lambda m: timedelta(minutes=m))
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(calendars(), instants, durations)
def test_add_then_measure_round_trips(cal, start, duration):
    due = bt.add(cal, start, duration)
    assert due >= start
    assert bt.between(cal, start, due) == duration


@PROPS
@given(calendars(), instants, durations)
def test_due_never_falls_outside_opening_hours(cal, start, duration):
    assert bt.is_open(cal, bt.add(cal, start, duration))


@PROPS
@given(calendars(), instants, durations, durations)
def test_pausing_in_the_middle_changes_nothing(cal, start, first, second):
    # Adding in two steps (a pause of zero length) equals adding at once.
    assert bt.add(cal, bt.add(cal, start, first), second) == bt.add(cal, start, first + second)


@PROPS
@given(calendars(), instants, instants)
def test_measure_is_additive_and_never_more_than_real_time(cal, a, b):
    a, b = min(a, b), max(a, b)
    mid = a + (b - a) / 2
    total = bt.between(cal, a, b)
    assert timedelta(0) <= total <= b - a
    assert total == bt.between(cal, a, mid) + bt.between(cal, mid, b)
