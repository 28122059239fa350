"""Background work of the reports: building an Excel export job, and the sweep
that keeps the jobs honest (failed when their worker died, sent again when the
queue lost them, removed after a day)."""

from __future__ import annotations

import logging

from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.reports import jobs

log = logging.getLogger(__name__)


@task(priority=0)
def build_export(job_id: str) -> None:
    """Build the file of a queued job (claimed first: a second delivery does nothing)."""
    if not jobs.run_job(job_id):
        log.info("export job %s is no longer queued; nothing to do", job_id)


@periodic_task(crontab(minute="*"))
def sweep_exports() -> None:
    jobs.fail_stale()
    jobs.requeue_lost()
    jobs.remove_expired()
