"""Every module that defines tasks. The worker imports them all at start so it can
run whatever the web processes enqueue; a feature adds its line here (keep every
line on a merge)."""

from __future__ import annotations

TASK_MODULES: list[str] = [
    "helpdesk.jobs.tasks",
    "helpdesk.auth.tasks",
    "helpdesk.reports.tasks",
    "helpdesk.sla.tasks",
    "helpdesk.attachments.tasks",
    "helpdesk.mail.tasks",
]
