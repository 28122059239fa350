"""Background-work benchmark: tasks/s and queue latency of the Huey queue.

    .venv/bin/python bench/jobs_bench.py                       # the whole table
    .venv/bin/python bench/jobs_bench.py --noop 2000 --db 200  # a quicker run

For each queue (SQLite file, Redis on 127.0.0.1:6379 with a key name of its own)
and each worker size (1 and 4 threads) it starts a real `helpdesk worker` on a
scratch SQLite database, then enqueues, as fast as one producer can, N no-op
tasks and then M small DB-touching tasks (an UPDATE committed by the task's
unit of work, spread over 100 rows). Reported per batch: the producer's enqueue
rate, tasks/s from the first enqueue to the last task started, and the queue
latency (enqueue → the task starts) p50/p95 over all tasks of the batch — under
a burst, so it includes the time spent waiting behind the burst itself — plus a
light-load p95: 100 tasks sent 20 ms apart, where latency is the queue's own
(polling/blocking) delay. Everything runs on this machine; numbers are for
comparing queues and thread counts in one run, not absolute.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/0"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


class Run:
    """One queue + worker size: the app (producer side) and the worker process."""

    def __init__(self, backend: str, threads: int, tmp: Path) -> None:
        self.backend, self.threads = backend, threads
        self.dir = tmp / f"{backend}-{threads}"
        self.dir.mkdir()
        self.latency_file = self.dir / "latency.txt"
        self.prefix = f"bench_{uuid.uuid4().hex[:10]}"
        env = {
            "DATABASE_URL": f"sqlite:///{self.dir / 'helpdesk.db'}",
            "SECRET_KEY": "bench-" + "k" * 40,
            "HELPDESK_INSTANCE_DIR": str(self.dir),
            "JOBS_BACKEND": backend,
            "JOBS_SQLITE_PATH": str(self.dir / "jobs.db"),
            "JOBS_REDIS_PREFIX": self.prefix,
            "BENCH_LATENCY_FILE": str(self.latency_file),
        }
        if backend == "redis":
            env["REDIS_URL"] = REDIS_URL
        os.environ.update(env)
        if backend != "redis":
            os.environ.pop("REDIS_URL", None)
        from helpdesk import create_app
        from helpdesk.extensions import db
        from helpdesk.jobs.worker import worker_env

        self.app = create_app()
        with self.app.app_context():
            from sqlalchemy import insert

            from bench import jobs_tasks

            db.create_all()
            jobs_tasks.metadata.create_all(db.engine)
            with db.engine.begin() as conn:
                conn.execute(
                    insert(jobs_tasks.counters), [{"id": i, "hits": 0} for i in range(100)]
                )
        self.env = worker_env(self.app)
        self.env.update(env)

    def __enter__(self) -> Run:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "helpdesk", "worker", "--workers", str(self.threads),
             "--import", "bench.jobs_tasks"],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=(self.dir / "worker.log").open("w"),
        )  # fmt: skip
        self.ctx = self.app.app_context()
        self.ctx.push()
        # ready once it beat and its start-up tasks (the sweeps) have left the queue
        from helpdesk.extensions import db
        from helpdesk.jobs import huey
        from helpdesk.jobs.models import JobWorker

        deadline = time.monotonic() + 300
        while db.session.query(JobWorker).count() == 0 or huey.pending_count():
            db.session.rollback()
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise SystemExit(
                    f"the worker did not start (exit {self.worker.poll()}, "
                    f"{huey.pending_count()} queued)"
                )
            time.sleep(0.1)
        time.sleep(0.5)  # the sweeps themselves finish
        return self

    def __exit__(self, *exc: Any) -> None:
        self.worker.send_signal(signal.SIGINT)
        try:
            self.worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.worker.kill()
        if self.backend == "redis":
            from helpdesk.jobs import huey

            huey.flush()
        self.ctx.pop()

    def done(self) -> list[float]:
        try:
            return [float(x) for x in self.latency_file.read_text().split()]
        except FileNotFoundError:
            return []

    def batch(self, kind: str, n: int, gap: float = 0.0) -> dict[str, float]:
        from bench import jobs_tasks

        self.latency_file.unlink(missing_ok=True)
        started = time.time()
        for i in range(n):
            if kind == "noop":
                jobs_tasks.noop(time.time())
            else:
                jobs_tasks.touch(i % 100, time.time())
            if gap:
                time.sleep(gap)
        enqueued = time.time() - started
        deadline = time.monotonic() + 600
        while len(self.done()) < n:
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise SystemExit(f"{kind}: only {len(self.done())} of {n} tasks ran")
            time.sleep(0.05)
        latencies = self.done()
        elapsed = time.time() - started
        return {
            "enqueue_per_s": n / enqueued,
            "tasks_per_s": n / elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * p(latencies, 0.95),
        }


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), 1):
            return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--noop", type=int, default=10_000, help="no-op tasks per run")
    parser.add_argument("--db", type=int, default=1_000, help="DB-touching tasks per run")
    parser.add_argument("--threads", default="1,4")
    parser.add_argument("--backends", default="sqlite,redis")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "redis" in backends and not redis_up():
        log("no Redis on 127.0.0.1:6379: the redis rows are left out")
        backends.remove("redis")
    rows = []
    with tempfile.TemporaryDirectory(prefix="helpdesk-jobs-bench-") as tmp:
        for backend in backends:
            for threads in (int(t) for t in args.threads.split(",")):
                log(f"{backend}, {threads} thread(s)")
                with Run(backend, threads, Path(tmp)) as run:
                    noop = run.batch("noop", args.noop)
                    touch = run.batch("touch", args.db)
                    light = run.batch("noop", 100, gap=0.02)
                rows.append((backend, threads, noop, touch, light))
    print(
        f"| queue | threads | {args.noop:,} no-op: enqueue/s | tasks/s | latency p50 / p95 ms "
        f"| {args.db:,} DB tasks: tasks/s | latency p50 / p95 ms | light load p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for backend, threads, noop, touch, light in rows:
        print(
            f"| {backend} | {threads} | {noop['enqueue_per_s']:,.0f} | {noop['tasks_per_s']:,.0f} "
            f"| {noop['p50_ms']:,.0f} / {noop['p95_ms']:,.0f} | {touch['tasks_per_s']:,.0f} "
            f"| {touch['p50_ms']:,.0f} / {touch['p95_ms']:,.0f} | {light['p95_ms']:,.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
