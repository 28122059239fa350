"""Calendars, holidays and policies: create, change, order; the defaults of a new desk.

Only administrators manage them (`permissions.can_manage_sla`); every change
writes an audit row.  Changing a policy applies to new tickets; open tickets are
recomputed only on request (`recompute_open`, run as a task).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, select

from helpdesk.audit.services import record
from helpdesk.db import name_taken
from helpdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.sla import business_time as bt
from helpdesk.sla import clocks
from helpdesk.sla.models import WEEKDAYS, BusinessCalendar, Holiday, Policy, Target
from helpdesk.sla.permissions import can_manage_sla
from helpdesk.tickets.models import Category, Priority, Status, Ticket
from helpdesk.users.models import User

DEFAULT_CALENDAR = "24×7"
DEFAULT_POLICY = "Default"
WHOLE_DAY = "00:00-24:00"
# The dashboard's former fixed overdue ages (days by priority), now the default
# policy's resolution targets on the 24×7 calendar (migration 0011 does the same).
DEFAULT_DAYS = {Priority.LOW: 14, Priority.MEDIUM: 7, Priority.HIGH: 3, Priority.URGENT: 1}
# Countries whose public holidays the calendar page can fill in (any code the
# `holidays` package knows works; these are offered in the form).
HOLIDAY_COUNTRIES = ("ES", "MX", "AR", "CO", "CL", "PE", "US", "GB", "FR", "DE", "PT", "IT")
MAX_TARGET_MINUTES = 366 * 24 * 60
OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.WAITING)


def _require_admin(actor: User | None) -> None:
    if actor is not None and not can_manage_sla(actor):
        raise PermissionDenied("Only administrators can manage service levels.")


def ensure_defaults() -> Policy:
    """The 24×7 calendar and the default policy, if the desk has no policy yet."""
    policy = db.session.scalar(select(Policy).order_by(Policy.position, Policy.id).limit(1))
    if policy is not None:
        return policy
    cal = db.session.scalar(
        select(BusinessCalendar).where(BusinessCalendar.name == DEFAULT_CALENDAR)
    )
    if cal is None:
        cal = BusinessCalendar(
            name=DEFAULT_CALENDAR, zone="UTC", **dict.fromkeys(WEEKDAYS, WHOLE_DAY)
        )
        db.session.add(cal)
        db.session.flush()
    policy = Policy(
        name=DEFAULT_POLICY,
        position=0,
        calendar_id=cal.id,
        pause_when_waiting=False,
        warn_percent=80,
        targets=[
            Target(priority=p, first_response_minutes=None, resolution_minutes=d * 1440)
            for p, d in DEFAULT_DAYS.items()
        ],
    )
    db.session.add(policy)
    db.session.flush()
    return policy


def create_default_policy() -> list[str]:
    """First start of a desk (`desk.FIRST_START`): the lines `init-db` prints."""
    had = db.session.scalar(select(func.count()).select_from(Policy)) or 0
    ensure_defaults()
    return [] if had else ["Service levels: the 24×7 calendar and the Default policy."]


# ---------------------------------------------------------------- calendars


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("A name is required.", field="name")
    if len(name) > 80:
        raise InvalidInput("At most 80 characters.", field="name")
    return name


def _clean_zone(zone: str) -> str:
    zone = (zone or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "Unknown time zone %(zone)s; use an IANA name such as Europe/Madrid.",
            field="zone",
            zone=zone,
        ) from None
    return zone


def zone_names() -> list[str]:
    return sorted(available_timezones())


def _clean_hours(hours: Mapping[int, str]) -> dict[str, str]:
    out = {}
    for day, key in enumerate(WEEKDAYS):
        text = (hours.get(day) or "").strip()
        try:
            ranges = bt.parse_ranges(text)
        except ValueError:
            raise InvalidInput(
                "Opening hours must look like 09:00-13:00, 15:00-18:00.", field=key
            ) from None
        out[key] = bt.format_ranges(ranges)
        if len(out[key]) > 120:
            raise InvalidInput("At most 120 characters.", field=key)
    if not any(out.values()):
        raise InvalidInput("A calendar needs opening hours on at least one day.", field="mon")
    return out


def _check_calendar_name_free(name: str, exclude_id: int | None = None) -> None:
    if name_taken(db.session, BusinessCalendar, name, exclude_id):
        raise Conflict("A calendar named %(name)s already exists.", field="name", name=name)


def get_calendar(calendar_id: int) -> BusinessCalendar:
    cal = db.session.get(BusinessCalendar, calendar_id)
    if cal is None:
        raise NotFound("No such calendar.")
    return cal


def list_calendars() -> list[BusinessCalendar]:
    return list(db.session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)))


def create_calendar(
    actor: User | None, *, name: str, zone: str, hours: Mapping[int, str]
) -> BusinessCalendar:
    _require_admin(actor)
    name = _clean_name(name)
    _check_calendar_name_free(name)
    cal = BusinessCalendar(name=name, zone=_clean_zone(zone), **_clean_hours(hours))
    db.session.add(cal)
    db.session.flush()
    record("sla.calendar_created", actor=actor, target=cal, name=name, zone=cal.zone)
    return cal


def update_calendar(
    actor: User | None, calendar_id: int, *, name: str, zone: str, hours: Mapping[int, str]
) -> BusinessCalendar:
    _require_admin(actor)
    cal = get_calendar(calendar_id)
    name = _clean_name(name)
    _check_calendar_name_free(name, exclude_id=cal.id)
    cal.name, cal.zone = name, _clean_zone(zone)
    for key, value in _clean_hours(hours).items():
        setattr(cal, key, value)
    db.session.flush()
    record("sla.calendar_updated", actor=actor, target=cal, name=name, zone=cal.zone)
    return cal


def add_holiday(
    actor: User | None, calendar_id: int, *, day: date, name: str = "", yearly: bool = False
) -> Holiday:
    _require_admin(actor)
    cal = get_calendar(calendar_id)
    name = " ".join((name or "").split())[:120]
    existing = db.session.scalar(
        select(Holiday).where(Holiday.calendar_id == cal.id, Holiday.day == day)
    )
    if existing is not None:
        raise Conflict("%(day)s is already a holiday in this calendar.", field="day", day=day)
    holiday = Holiday(calendar_id=cal.id, day=day, name=name, yearly=bool(yearly))
    cal.holidays.append(holiday)
    db.session.flush()
    record("sla.holiday_added", actor=actor, target=cal, day=day, name=name, yearly=yearly)
    return holiday


def remove_holiday(actor: User | None, calendar_id: int, holiday_id: int) -> None:
    _require_admin(actor)
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None or holiday.calendar_id != calendar_id:
        raise NotFound("No such holiday.")
    cal = holiday.calendar
    cal.holidays.remove(holiday)
    db.session.flush()
    record("sla.holiday_removed", actor=actor, target=cal, day=holiday.day)


def prefill_holidays(actor: User | None, calendar_id: int, country: str, year: int) -> int:
    """Add a country's public holidays for a year (from the `holidays` package);
    dates already in the calendar are kept as they are.  Returns how many were added."""
    import holidays as holidays_pkg

    _require_admin(actor)
    cal = get_calendar(calendar_id)
    country = (country or "").strip().upper()
    if not 1970 <= int(year) <= 2100:
        raise InvalidInput("Choose a year between 1970 and 2100.", field="year")
    try:
        days = holidays_pkg.country_holidays(country, years=int(year))
    except NotImplementedError:
        raise InvalidInput(
            "No public holidays known for country code %(code)s.", field="country", code=country
        ) from None
    have = {h.day for h in cal.holidays}
    added = 0
    for day, label in sorted(days.items()):
        if day in have:
            continue
        cal.holidays.append(Holiday(day=day, name=str(label)[:120], yearly=False))
        added += 1
    db.session.flush()
    record(
        "sla.holidays_prefilled", actor=actor, target=cal, country=country, year=year, added=added
    )
    return added


# ---------------------------------------------------------------- policies


def list_policies() -> list[Policy]:
    return list(db.session.scalars(select(Policy).order_by(Policy.position, Policy.id)).unique())


def get_policy(policy_id: int) -> Policy:
    policy = db.session.get(Policy, policy_id)
    if policy is None:
        raise NotFound("No such policy.")
    return policy


def _clean_minutes(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if not 1 <= int(value) <= MAX_TARGET_MINUTES:
        raise InvalidInput("A target is between 1 minute and 366 days.", field=field)
    return int(value)


def _apply_policy(
    policy: Policy,
    *,
    name: str,
    calendar_id: int,
    targets: Mapping[Priority | str, tuple[int | None, int | None]],
    category_ids: Iterable[int],
    pause_when_waiting: bool,
    warn_percent: int,
    notify_admins: bool,
) -> None:
    policy.name = _clean_name(name)
    query = select(Policy.id).where(func.lower(Policy.name) == policy.name.lower())
    if policy.id is not None:
        query = query.where(Policy.id != policy.id)
    if db.session.scalar(query) is not None:
        raise Conflict("A policy named %(name)s already exists.", field="name", name=policy.name)
    policy.calendar_id = get_calendar(calendar_id).id
    if not 1 <= int(warn_percent) <= 99:
        raise InvalidInput(
            "The warning share is a percentage between 1 and 99.", field="warn_percent"
        )
    policy.warn_percent = int(warn_percent)
    policy.pause_when_waiting = bool(pause_when_waiting)
    policy.notify_admins = bool(notify_admins)
    ids = sorted({int(i) for i in category_ids})
    cats = list(db.session.scalars(select(Category).where(Category.id.in_(ids)))) if ids else []
    if len(cats) != len(ids):
        raise InvalidInput("Choose existing categories.", field="category_ids")
    policy.categories = cats
    by_priority = {Priority(k): v for k, v in targets.items()}
    existing = {t.priority: t for t in policy.targets}
    for p in Priority:
        response, resolution = by_priority.get(p, (None, None))
        response = _clean_minutes(response, f"{p.value}_first_response")
        resolution = _clean_minutes(resolution, f"{p.value}_resolution")
        target = existing.get(p)
        if target is None:
            policy.targets.append(
                Target(priority=p, first_response_minutes=response, resolution_minutes=resolution)
            )
        else:
            target.first_response_minutes, target.resolution_minutes = response, resolution


def create_policy(actor: User | None, **fields: Any) -> Policy:
    _require_admin(actor)
    last = db.session.scalar(select(func.max(Policy.position))) or 0
    policy = Policy(position=int(last) + 1, targets=[])
    _apply_policy(policy, **fields)
    db.session.add(policy)
    db.session.flush()
    record("sla.policy_created", actor=actor, target=policy, name=policy.name)
    return policy


def update_policy(
    actor: User | None, policy_id: int, *, active: bool = True, **fields: Any
) -> Policy:
    _require_admin(actor)
    policy = get_policy(policy_id)
    _apply_policy(policy, **fields)
    policy.active = bool(active)
    db.session.flush()
    record("sla.policy_updated", actor=actor, target=policy, name=policy.name, active=policy.active)
    return policy


def move_policy(actor: User | None, policy_id: int, direction: int) -> None:
    """Swap a policy with its neighbour above (-1) or below (+1) in the order."""
    _require_admin(actor)
    policies = list_policies()
    index = next((i for i, p in enumerate(policies) if p.id == policy_id), None)
    if index is None:
        raise NotFound("No such policy.")
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(policies):
        return
    policies[index], policies[other] = policies[other], policies[index]
    for position, policy in enumerate(policies):
        policy.position = position
    db.session.flush()
    record("sla.policy_moved", actor=actor, target=policies[other], position=other)


def open_ticket_ids(after_id: int = 0, limit: int = 500) -> list[int]:
    return list(
        db.session.scalars(
            select(Ticket.id)
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.id > after_id)
            .order_by(Ticket.id)
            .limit(limit)
        )
    )


def recompute_tickets(ticket_ids: Iterable[int]) -> int:
    """Pick each open ticket's policy again and recompute its dues from its start."""
    n = 0
    with clocks.calendars_cached():
        for ticket_id in ticket_ids:
            ticket = db.session.get(Ticket, ticket_id)
            if ticket is None or ticket.status not in OPEN_STATUSES:
                continue
            policy = clocks.matching_policy(ticket)
            ticket.sla_policy_id = policy.id if policy else None
            clocks.recompute(ticket, policy)
            n += 1
    db.session.flush()
    return n
