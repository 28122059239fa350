"""Background work of service levels: the minute sweep and "recompute open tickets"."""

from __future__ import annotations

from helpdesk.jobs import crontab, enqueue_after_commit, periodic_task, task
from helpdesk.sla import alerts
from helpdesk.sla import services as sla

RECOMPUTE_BATCH = 500


@periodic_task(crontab(minute="*"))
def sla_sweep() -> None:
    """Warnings and breaches due now (one index range; at most a batch per minute)."""
    alerts.sweep()


@task(retries=3, retry_delay=5)
def recompute_open(after_id: int = 0) -> None:
    """Recompute a batch of open tickets, then queue the next batch once this one
    commits: a million tickets never sit in one transaction."""
    ids = sla.open_ticket_ids(after_id, RECOMPUTE_BATCH)
    sla.recompute_tickets(ids)
    if len(ids) == RECOMPUTE_BATCH:
        enqueue_after_commit(recompute_open, ids[-1])
