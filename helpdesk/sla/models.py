"""Business calendars, holidays and SLA policies with their per-priority targets.

The clocks themselves live on the ticket (`Ticket.first_response_due`, …): a
list sorted by the next due and the sweep read one indexed column of the
tickets table instead of joining a clocks table at a million rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.db import MYSQL_TABLE_ARGS, Base, RankedEnum, UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.sla.business_time import Calendar, parse_ranges
from helpdesk.tickets.models import Category, Priority

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessCalendar(Base):
    """A time zone, opening ranges per weekday (text such as "09:00-13:00, 15:00-18:00")
    and holidays."""

    __tablename__ = "sla_calendars"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    zone: Mapped[str] = mapped_column(String(64), default="UTC")
    mon: Mapped[str] = mapped_column(String(120), default="")
    tue: Mapped[str] = mapped_column(String(120), default="")
    wed: Mapped[str] = mapped_column(String(120), default="")
    thu: Mapped[str] = mapped_column(String(120), default="")
    fri: Mapped[str] = mapped_column(String(120), default="")
    sat: Mapped[str] = mapped_column(String(120), default="")
    sun: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="Holiday.day"
    )

    def hours(self, weekday: int) -> str:
        return str(getattr(self, WEEKDAYS[weekday]) or "")

    def to_calendar(self) -> Calendar:
        """The pure calendar the arithmetic works on."""
        return Calendar(
            zone=self.zone,
            weekly={d: parse_ranges(self.hours(d)) for d in range(7)},
            holidays=frozenset(h.day for h in self.holidays if not h.yearly),
            yearly_holidays=frozenset((h.day.month, h.day.day) for h in self.holidays if h.yearly),
        )


class Holiday(Base):
    __tablename__ = "sla_holidays"
    __table_args__ = (UniqueConstraint("calendar_id", "day"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120), default="")
    # Repeats every year on the same month and day (the year of `day` is ignored).
    yearly: Mapped[bool] = mapped_column(Boolean, default=False)

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")


policy_categories = Table(
    "sla_policy_categories",
    db.metadata,
    Column("policy_id", ForeignKey("sla_policies.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    **MYSQL_TABLE_ARGS,
)


class Policy(Base):
    """Targets per priority on one calendar; the first active policy (by position)
    whose categories include the ticket's (or that has none) applies."""

    __tablename__ = "sla_policies"
    __table_args__ = (Index("ix_sla_policies_position", "position"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendars.id"))
    pause_when_waiting: Mapped[bool] = mapped_column(Boolean, default=True)
    # The warning goes out when this share of a target's business time has passed.
    warn_percent: Mapped[int] = mapped_column(Integer, default=80)
    notify_admins: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calendar: Mapped[BusinessCalendar] = relationship(lazy="joined")
    categories: Mapped[list[Category]] = relationship(secondary=policy_categories)
    targets: Mapped[list[Target]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", lazy="selectin"
    )

    def target(self, priority: Priority) -> Target | None:
        return next((t for t in self.targets if t.priority == Priority(priority)), None)


class Target(Base):
    """Business minutes to the first response and to resolution for one priority
    (None: no promise for that clock)."""

    __tablename__ = "sla_targets"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    policy_id: Mapped[int] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="CASCADE"), primary_key=True
    )
    priority: Mapped[Priority] = mapped_column(
        RankedEnum(Priority), primary_key=True, autoincrement=False
    )
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)

    policy: Mapped[Policy] = relationship(back_populates="targets")
