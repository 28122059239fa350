"""Business-time arithmetic: pure functions over a calendar (no Flask, no database).

A calendar has an IANA time zone, opening ranges per weekday in local wall-clock
time and holidays.  Business time is the *real elapsed time* spent inside opening
ranges, so an opening day of 00:00–24:00 lasts 23 or 25 hours on the days the
clocks change, exactly as long as somebody really works.

Conventions (written down because every one of them is a choice):
- A range `(start, end)` opens on its local date at `start`.  `end <= start`
  means the range runs overnight and closes on the next day at `end`;
  `start == end` is a full 24-hour day starting at `start` (00:00–00:00 is a
  whole day, which is how a 24×7 calendar is written).
- A holiday removes every range that *opens* on that local date (an overnight
  range from the evening before still runs into the holiday's morning).
- A wall time that does not exist (the hour skipped when clocks go forward)
  means the first real instant after the gap; a wall time that happens twice
  (clocks go back) means its first occurrence.
- Instants are aware datetimes; naive ones are read as UTC (how the database
  stores them).  Results are aware UTC datetimes.
- Overlapping or touching ranges (from adjacent days, overnight ranges) merge,
  so business time is never counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
ZERO = timedelta(0)
# How far ahead to look for the next opening before giving up: a calendar whose
# every day is a holiday for ten years has no business time to give.
SEARCH_DAYS = 3700

Range = tuple[time, time]


class NoBusinessTime(ValueError):
    """The calendar has no opening hours in the searched period."""


@dataclass(frozen=True)
class Calendar:
    """Opening hours in one time zone.

    `weekly[0]` is Monday … `weekly[6]` Sunday; a missing or empty weekday is
    closed all day.  `holidays` are one-off local dates; `yearly_holidays` are
    (month, day) pairs that repeat every year.
    """

    zone: str
    weekly: dict[int, tuple[Range, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)  # set from `zone` below

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", ZoneInfo(self.zone))  # raises on an unknown zone
        ranges = {}
        for weekday, rs in self.weekly.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
            ranges[weekday] = tuple(sorted(rs))
        object.__setattr__(self, "weekly", ranges)

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    @property
    def has_hours(self) -> bool:
        return any(self.weekly.get(d) for d in range(7))

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        if self.is_holiday(day):
            return ()
        return self.weekly.get(day.weekday(), ())

    @classmethod
    def always_open(cls, zone: str = "UTC") -> Calendar:
        """The 24×7 calendar."""
        whole_day = ((time(0), time(0)),)
        return cls(zone=zone, weekly=dict.fromkeys(range(7), whole_day))


def as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time (see the module's conventions)."""
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (fold=0 is the first occurrence of a repeated time)
    # In a gap: fold=1 reads it with the offset after the change, which lands
    # before the change; the first real instant is between the two readings.
    # Offsets change at whole seconds: bisect on seconds.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = first
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


def _day_intervals(cal: Calendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    for start, end in cal.ranges_on(day):
        end_day = day if end > start else day + timedelta(days=1)
        s = local_to_utc(datetime.combine(day, start), cal.tz)
        e = local_to_utc(datetime.combine(end_day, end), cal.tz)
        if e > s:  # a range wholly inside a skipped hour has no real time
            yield s, e


def intervals_from(cal: Calendar, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Disjoint opening intervals (UTC) after `instant`, in order, clipped to it.

    Lazy and unbounded; raises NoBusinessTime after SEARCH_DAYS days without hours.
    Local-to-UTC conversion keeps order, so interval starts arrive sorted and
    cutting each one at the previous end removes overlaps (overnight ranges
    running into the next day's).  Intervals may touch (a 24×7 calendar is one
    per day).
    """
    last_end = as_utc(instant)
    # Start a day early: an overnight range from the previous local day may still be open.
    day = last_end.astimezone(cal.tz).date() - timedelta(days=1)
    idle_days = 0
    while idle_days <= SEARCH_DAYS:
        found = False
        for s, e in _day_intervals(cal, day):
            found = True
            s = max(s, last_end)
            if e > s:
                yield s, e
                last_end = e
        idle_days = 0 if found else idle_days + 1
        day += timedelta(days=1)
    raise NoBusinessTime("the calendar has no opening hours in the next ten years")


def add(cal: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant when `duration` of business time has passed since `start`.

    A zero duration gives `start` itself if the calendar is open then, otherwise
    the next opening.  The result is always inside opening hours (an interval's
    closing instant counts as inside: "due at 18:00" on a day that closes at 18:00).
    """
    if duration < ZERO:
        raise ValueError("a business duration cannot be negative")
    if duration == ZERO and is_open(cal, start):
        return as_utc(start)  # also at a closing instant, which counts as inside
    left = duration
    for s, e in intervals_from(cal, start):
        span = e - s
        if left <= span:
            return s + left
        left -= span
    raise AssertionError("unreachable: intervals_from is unbounded")  # pragma: no cover


def between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """Business time from `a` to `b` (negative when `b` is before `a`)."""
    a, b = as_utc(a), as_utc(b)
    if b < a:
        return -between(cal, b, a)
    total = ZERO
    if a == b:
        return total
    try:
        for s, e in intervals_from(cal, a):
            if s >= b:
                break
            total += min(e, b) - s
    except NoBusinessTime:
        pass
    return total


def is_open(cal: Calendar, instant: datetime) -> bool:
    """Whether `instant` is inside opening hours (closing instants included)."""
    instant = as_utc(instant)
    try:
        # From just before: an interval closing exactly at `instant` still counts.
        s, _e = next(intervals_from(cal, instant - timedelta(microseconds=1)))
    except NoBusinessTime:
        return False
    return s <= instant


def remaining(cal: Calendar, now: datetime, due: datetime) -> timedelta:
    """Business time left until `due` (negative once past it): what a pause keeps."""
    return between(cal, now, due)


def resume(cal: Calendar, now: datetime, left: timedelta) -> datetime:
    """The new due instant after a pause that kept `left` business time.

    A clock that was already past due when paused stays past due by as much.
    """
    if left >= ZERO:
        return add(cal, now, left)
    return as_utc(now) + left


def parse_ranges(text: str) -> tuple[Range, ...]:
    """'09:00-13:00, 15:00-18:00' → ranges; '' → closed.  Raises ValueError."""
    out: list[Range] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            a, b = (x.strip() for x in part.split("-"))
            out.append((_parse_time(a), _parse_time(b)))
        except ValueError:
            raise ValueError(f"not an opening range: {part!r} (write 09:00-18:00)") from None
    return tuple(out)


def _parse_time(text: str) -> time:
    if text == "24:00":
        return time(0)
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def format_ranges(ranges: Iterable[Range]) -> str:
    def fmt(t: time, closing: bool) -> str:
        return "24:00" if closing and t == time(0) else t.strftime("%H:%M")

    return ", ".join(f"{fmt(a, False)}-{fmt(b, True)}" for a, b in ranges)
