"""Export jobs: an Excel file built by a background worker while its owner watches the
progress. The state lives in the database so every server process (and the worker)
sees the same job."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import MYSQL_TABLE_ARGS, Base, UTCDateTime, utcnow


class ExportStatus(str, enum.Enum):
    QUEUED = "queued"  # row committed, its task not yet at work
    RUNNING = "running"  # claimed by a worker's task; rows_done grows
    DONE = "done"  # the file is in EXPORT_DIR, ready to download
    FAILED = "failed"  # `error` says why (also: the worker vanished, see jobs.STALE_AFTER)


ACTIVE_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        Index("ix_export_jobs_owner_id_status", "owner_id", "status"),
        Index("ix_export_jobs_created_at", "created_at"),
        # The sweep: active jobs whose heartbeat stopped, queued ones left behind.
        Index("ix_export_jobs_status_heartbeat_at", "status", "heartbeat_at"),
        MYSQL_TABLE_ARGS,
    )

    # Random hex (secrets.token_hex): unguessable, and safe under MySQL's
    # case-insensitive collations, where two base64 ids differing only in case
    # would be the same key.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(8))
    # The filters as query-string arguments (JSON of reports.services.filters_args):
    # parsed again, for the owner, when the job runs.
    filters: Mapped[str] = mapped_column(Text)
    # The owner's language when they started it: the task has no request to ask.
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[ExportStatus] = mapped_column(
        Enum(
            ExportStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ExportStatus.QUEUED,
    )
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    # The name the browser saves the file as (dated when the job was started).
    file_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched by the task while it runs; a job whose heartbeat stops is failed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES
