"""The tasks bench/jobs_bench.py enqueues; its worker imports this module (`--import`).

Each task appends "<queue latency seconds>" to BENCH_LATENCY_FILE when it starts, so
the bench can count completions and read the latencies without touching the queue.
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import Column, Integer, MetaData, Table, update

from helpdesk.extensions import db
from helpdesk.jobs import task

metadata = MetaData()
counters = Table(
    "bench_job_counters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hits", Integer, nullable=False, default=0),
)
_lock = threading.Lock()


def _started(sent_at: float) -> None:
    latency = time.time() - sent_at
    with _lock, open(os.environ["BENCH_LATENCY_FILE"], "a") as fh:
        fh.write(f"{latency:.6f}\n")


@task()
def noop(sent_at: float) -> None:
    _started(sent_at)


@task()
def touch(row_id: int, sent_at: float) -> None:
    """A small write in the task's own transaction (committed by unit_of_work)."""
    _started(sent_at)
    db.session.execute(
        update(counters).where(counters.c.id == row_id).values(hits=counters.c.hits + 1)
    )
