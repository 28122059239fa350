"""A task the two-worker test enqueues many times at once (imported with `--import`):
one sweep, then a note that it ran (outside its transaction, like tests.jobs.probe_tasks)."""

from __future__ import annotations

from helpdesk.jobs import task
from helpdesk.sla import alerts
from tests.jobs import probe_tasks


@task()
def sweep_and_note(token: str) -> None:
    alerts.sweep()
    probe_tasks._note(token, "swept")
