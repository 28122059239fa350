"""What the queue itself keeps in the database: which workers live, which periodic
slot already ran, and the tasks that failed for good.

The queue (SQLite file or Redis) only signals; these rows survive it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow


class JobWorker(Base):
    """One running `helpdesk worker` (host:pid), touched every few seconds."""

    __tablename__ = "job_workers"
    __table_args__ = (Index("ix_job_workers_seen_at", "seen_at"), MYSQL_TABLE_ARGS)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    backend: Mapped[str] = mapped_column(String(16))
    threads: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobSchedule(Base):
    """The last minute a periodic task was claimed for: several workers' schedulers
    all see the same minute, and only the one whose conditional UPDATE moves
    `last_slot` forward enqueues it."""

    __tablename__ = "job_schedule"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_slot: Mapped[datetime] = mapped_column(UTCDateTime)


class JobFailure(Base):
    """A task that raised on its last try (after its retries), with the error."""

    __tablename__ = "job_failures"
    __table_args__ = (Index("ix_job_failures_failed_at", "failed_at"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
