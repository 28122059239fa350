"""Background work on Huey (see docs/architecture.md, "Background work").

    from helpdesk.jobs import task, periodic_task, enqueue_after_commit, crontab

    @task(retries=3, retry_delay=10)
    def deliver(delivery_id: int) -> None: ...      # runs in unit_of_work()

    enqueue_after_commit(deliver, delivery.id)       # queued once the row is stored

A feature's tasks live in `<feature>/tasks.py`, listed in `jobs/registry.py`.
"""

from helpdesk.jobs.queue import (
    backend,
    crontab,
    enqueue_after_commit,
    huey,
    init_app,
    periodic_task,
    task,
)

__all__ = [
    "backend",
    "crontab",
    "enqueue_after_commit",
    "huey",
    "init_app",
    "periodic_task",
    "task",
]
