"""The consumer process (`helpdesk worker`): Huey's thread workers and scheduler,
plus a heartbeat row so `/healthz` and `check-system` can tell it lives."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.jobs.models import JobWorker
from helpdesk.jobs.queue import backend, huey
from helpdesk.transaction import unit_of_work

log = logging.getLogger(__name__)

# The worker polls an idle SQLite queue at most this far apart (Redis blocks on
# the queue instead); it is also the longest wait for a task enqueued while idle.
MAX_POLL_SECONDS = 1.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


class Heartbeat(threading.Thread):
    """Touches this worker's row every JOBS_HEARTBEAT_SECONDS; with `parent_pid`, stops
    the worker (as Ctrl-C would) once that process is gone (`helpdesk run`)."""

    def __init__(self, app: Flask, threads: int, parent_pid: int | None = None) -> None:
        super().__init__(name="helpdesk-heartbeat", daemon=True)
        self.app = app
        self.threads = threads
        self.parent_pid = parent_pid
        self.every = float(app.config.get("JOBS_HEARTBEAT_SECONDS") or 15)
        self.id = worker_id()
        self.stopped = threading.Event()

    def beat(self) -> None:
        with self.app.app_context(), unit_of_work():
            row = db.session.get(JobWorker, self.id)
            now = utcnow()
            if row is None:
                db.session.add(
                    JobWorker(
                        id=self.id,
                        backend=backend(self.app),
                        threads=self.threads,
                        started_at=now,
                        seen_at=now,
                    )
                )
            else:
                row.seen_at = now

    def run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception:  # the database is down for a moment: next beat tries again
                log.warning("worker heartbeat failed", exc_info=True)
            if self.stopped.wait(self.every):
                return
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.info("the web server (pid %s) is gone; stopping", self.parent_pid)
                os.kill(os.getpid(), signal.SIGINT)
                return

    def stop(self) -> None:
        self.stopped.set()
        try:
            with self.app.app_context(), unit_of_work():
                db.session.execute(delete(JobWorker).where(JobWorker.id == self.id))
        except Exception:
            log.warning("could not remove this worker's heartbeat row", exc_info=True)


def run_consumer(app: Flask, *, workers: int = 1, parent_pid: int | None = None) -> None:
    """Run until SIGINT (finish the tasks under way, then stop) or SIGTERM (stop now)."""
    huey.bound_app = app
    consumer = huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=True,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=MAX_POLL_SECONDS,
        scheduler_interval=1,
        check_worker_health=True,
        health_check_interval=10,
        # A worker killed mid-task leaves no lock behind to block the next one.
        flush_locks=True,
        shutdown_timeout=float(app.config.get("JOBS_SHUTDOWN_SECONDS") or 30),
    )
    heartbeat = Heartbeat(app, workers, parent_pid)
    heartbeat.start()
    catch_up()
    try:
        consumer.run()
    finally:
        heartbeat.stop()


def catch_up() -> None:
    """Run every periodic task once at start: the sweeps re-send what the queue lost
    while no worker ran (a Redis restarted empty) without waiting for their minute.
    They are idempotent, so several workers starting together do no harm."""
    for periodic in huey._registry.periodic_tasks:
        try:
            huey.enqueue(periodic)
        except Exception:
            log.warning("could not enqueue %s at start", periodic.name, exc_info=True)


def worker_status(now: Any = None) -> str:
    """'ok' when a worker beat in the last three beats, 'late' when one did before,
    'none' when no worker ever reported (or backend 'immediate': there is none to
    wait for, tasks run inline — reported as 'ok')."""
    if backend() == "immediate":
        return "ok"
    from flask import current_app

    every = float(current_app.config.get("JOBS_HEARTBEAT_SECONDS") or 15)
    last = last_seen()
    if last is None:
        return "none"
    now = now or utcnow()
    return "ok" if now - last <= timedelta(seconds=3 * every) else "late"


def last_seen() -> datetime | None:
    """When a worker last beat (naive UTC, like `utcnow()`), None when none did."""
    seen = db.session.scalar(select(func.max(JobWorker.seen_at)))
    if isinstance(seen, str):  # SQLite hands MAX() back untyped on some versions
        seen = datetime.fromisoformat(seen)
    return seen.replace(tzinfo=None) if seen is not None else None


def worker_env(app: Flask, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a worker (or any child process) that must use the same
    database, folders and queue as `app` — also settings a caller overrode after the
    environment was read (the tests do)."""
    config = app.config
    env = dict(os.environ if base is None else base)
    env.update(
        DATABASE_URL=str(config["SQLALCHEMY_DATABASE_URI"]),
        EXPORT_DIR=str(config["EXPORT_DIR"]),
        UPLOAD_DIR=str(config["UPLOAD_DIR"]),
        HELPDESK_INSTANCE_DIR=str(app.instance_path),
        HELPDESK_ENV=str(config.get("HELPDESK_ENV") or "development"),
        SECRET_KEY=str(config["SECRET_KEY"]),
        REDIS_PREFIX=str(config.get("REDIS_PREFIX") or "helpdesk"),
        JOBS_BACKEND=backend(app),
        JOBS_SQLITE_PATH=str(config.get("JOBS_SQLITE_PATH") or ""),
        JOBS_REDIS_PREFIX=str(config.get("JOBS_REDIS_PREFIX") or "helpdesk"),
        JOBS_HEARTBEAT_SECONDS=str(config.get("JOBS_HEARTBEAT_SECONDS") or 15),
    )
    for key in ("EXPORT_HEARTBEAT_SECONDS", "EXPORT_STALE_SECONDS", "EXPORT_REQUEUE_SECONDS"):
        if config.get(key):
            env[key] = str(config[key])
    if config.get("REDIS_URL"):
        env["REDIS_URL"] = str(config["REDIS_URL"])
    else:
        env.pop("REDIS_URL", None)
    return env


def spawn_worker(app: Flask, workers: int = 1) -> subprocess.Popen[bytes]:
    """A worker process beside this server (`helpdesk run`): in this process group, so
    Ctrl-C in the terminal stops both, and it stops by itself if this process dies."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpdesk",
            "worker",
            "--workers",
            str(workers),
            "--parent-pid",
            str(os.getpid()),
        ],
        env=worker_env(app),
        stdin=subprocess.DEVNULL,
    )


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Ask it to finish what it is doing (SIGINT), then insist."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def health_checks(
    now: datetime | None = None, *, worker: bool = True
) -> list[tuple[bool, str, str]]:
    """check-system's lines about background work, as (ok, what, fix); `worker=False`
    leaves out whether a worker reports."""
    from flask import current_app

    out: list[tuple[bool, str, str]] = []
    kind = backend()
    processes = [os.environ.get(k, "").strip() for k in ("HELPDESK_PROCESSES", "WEB_CONCURRENCY")]
    several = any(p.isdigit() and int(p) > 1 for p in processes)
    out.append(
        (
            not (kind == "sqlite" and several),
            f"job queue suits the number of server processes ({kind})",
            "several server processes (HELPDESK_PROCESSES > 1) share one queue only on "
            "Redis: set REDIS_URL (JOBS_BACKEND then defaults to redis)",
        )
    )
    if kind == "immediate" or not worker:
        return out
    try:
        last = last_seen()
    except SQLAlchemyError:  # not migrated yet: the migrations line says what to do
        db.session.rollback()
        out.append((False, "background worker reporting", "run `helpdesk init-db` first"))
        return out
    now = now or utcnow()
    limit = timedelta(seconds=float(current_app.config.get("JOBS_WORKER_LATE_SECONDS") or 120))
    if last is None:
        what = "background worker reporting (none ever did)"
    else:
        what = f"background worker reporting (last {int((now - last).total_seconds())} s ago)"
    out.append(
        (
            last is not None and now - last <= limit,
            what,
            "start one: `helpdesk worker` (or `make run`, or the helpdesk-worker service in "
            "deploy/); without it exports and other background work wait",
        )
    )
    return out
