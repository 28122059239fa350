"""The queue's own upkeep: forget workers long gone and old failure records."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from helpdesk.db import oldest_ids, utcnow
from helpdesk.extensions import db
from helpdesk.jobs.models import JobFailure, JobWorker
from helpdesk.jobs.queue import crontab, periodic_task

WORKERS_FORGOTTEN_AFTER = timedelta(days=1)
FAILURES_KEPT = timedelta(days=30)
BATCH = 1000  # rows per sweep run: a backlog is worked off run by run


@periodic_task(crontab(minute="17"))
def prune_job_records() -> None:
    now = utcnow()
    db.session.execute(delete(JobWorker).where(JobWorker.seen_at < now - WORKERS_FORGOTTEN_AFTER))
    old = oldest_ids(db.session, JobFailure.id, JobFailure.failed_at, now - FAILURES_KEPT, BATCH)
    if old:
        db.session.execute(delete(JobFailure).where(JobFailure.id.in_(old)))
