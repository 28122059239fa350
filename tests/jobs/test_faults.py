"""Faults the background work survives, each with real processes: a worker killed
mid-export, Redis restarted empty with jobs queued, a task delivered twice, a task
that keeps raising."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from datetime import timedelta

import pytest
import redis

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.jobs import huey
from helpdesk.jobs.queue import enqueue_now
from helpdesk.reports import jobs as export_jobs
from helpdesk.reports.models import ExportJob, ExportStatus
from helpdesk.tickets import services as tickets
from tests.conftest import make_app, wait_for
from tests.jobs import probe_tasks
from tests.realtime.cluster import free_port

# Several real processes each and the same on every database: run once (CI runs the
# multiprocess tests on PostgreSQL).
pytestmark = pytest.mark.multiprocess

FAST = {"EXPORT_HEARTBEAT_SECONDS": 0.3, "EXPORT_STALE_SECONDS": 3, "EXPORT_REQUEUE_SECONDS": 0.001}


def _status(job_id: str) -> ExportJob:
    db.session.rollback()  # a fresh snapshot each time (MySQL)
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    assert job is not None
    return job


def _start_export(actor, **filters) -> str:  # type: ignore[no-untyped-def]
    job = export_jobs.start_xlsx_job(actor, tickets.parse_filters(filters), locale="en")
    db.session.commit()
    return job.id


def test_a_worker_killed_mid_export_leaves_a_failed_job_not_a_running_one(
    database, tmp_path, worker_process
):
    app = make_app(database, tmp_path, **FAST)
    with app.app_context():
        db.create_all()
        boss = make_user_in(app, "admin")
        job_id = _start_export(boss)
        held = worker_process(app, modules=("tests.jobs.slow_export",))
        wait_for(lambda: _status(job_id).rows_total is not None, "the job to count its rows")
        assert _status(job_id).status == ExportStatus.RUNNING
        held.kill()  # SIGKILL: no clean-up of any kind
        assert _status(job_id).status == ExportStatus.RUNNING  # what the killed worker left

        def stale() -> bool:
            beat = _status(job_id).heartbeat_at
            return beat is not None and utcnow() - beat.replace(tzinfo=None) > timedelta(
                seconds=FAST["EXPORT_STALE_SECONDS"] + 0.5
            )

        wait_for(stale, "the dead job's heartbeat to go stale")
        worker_process(app)  # its sweep at start finds the job
        wait_for(lambda: _status(job_id).status == ExportStatus.FAILED, "the sweep to fail it")
        job = _status(job_id)
        assert "stopped before it finished" in (job.error or "")
        assert not os.path.exists(os.path.join(app.config["EXPORT_DIR"], f"{job_id}.xlsx"))
        client = app.test_client()
        client.login(boss.username)
        assert client.get(f"/reports/jobs/{job_id}/download").status_code == 409
        db.session.remove()
        db.engine.dispose()


def make_user_in(app, role):  # type: ignore[no-untyped-def]
    from helpdesk.users import services as users
    from tests.conftest import PASSWORD

    user = users.create_user(
        None, username=f"{role}-{os.getpid()}", password=PASSWORD, role=role, full_name=role
    )
    db.session.commit()
    return user


class RedisServer:
    """A private redis-server on a free port, without persistence: a restart is empty."""

    def __init__(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        self.port = free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (Debian: apt-get install redis-server)"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
            except redis.RedisError:
                return False

        wait_for(up, "redis-server to answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def own_redis(tmp_path):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_restarted_empty_loses_no_job(database, tmp_path, worker_process, own_redis):
    app = make_app(database, tmp_path, JOBS_BACKEND="redis", REDIS_URL=own_redis.url, **FAST)
    with app.app_context():
        db.create_all()
        boss, tech = make_user_in(app, "admin"), make_user_in(app, "technician")
        ids = [
            _start_export(boss, status="open"),
            _start_export(boss, status="closed"),
            _start_export(tech),
        ]
        assert huey.pending_count() == 3  # queued in Redis, no worker yet
        own_redis.stop()
        own_redis.start()  # the same address, nothing in it
        assert huey.pending_count() == 0
        worker = worker_process(app, workers=2)
        for job_id in ids:
            wait_for(lambda j=job_id: _status(j).status == ExportStatus.DONE, f"job {job_id}")
        for job_id in ids:
            assert os.path.exists(os.path.join(app.config["EXPORT_DIR"], f"{job_id}.xlsx"))
        worker.stop()
        assert "failed" not in worker.log()
        db.session.remove()
        db.engine.dispose()


def test_a_task_delivered_twice_has_one_effect(app, worker_process, make_user):
    probe_tasks.create_table()
    boss = make_user("admin")
    job_id = _start_export(boss)
    enqueue_now("helpdesk.reports.tasks.build_export", job_id)  # a second delivery
    probe_tasks.record("twice")
    probe_tasks.record("twice")
    worker = worker_process(app, workers=2, modules=("tests.jobs.probe_tasks",))
    wait_for(lambda: _status(job_id).status == ExportStatus.DONE, "the export")
    wait_for(lambda: probe_tasks.rows("twice"), "the probe task")
    wait_for(lambda: huey.pending_count() == 0, "both deliveries to be taken")
    worker.stop()  # Ctrl-C: the tasks under way finish first
    assert [r[1] for r in probe_tasks.rows("twice")] == ["done"]
    assert worker.log().count(f"export job {job_id} is no longer queued") == 1


def test_a_task_that_keeps_raising_is_retried_then_recorded_and_the_web_serves(
    app, client, worker_process
):
    from sqlalchemy import select

    from helpdesk.jobs.models import JobFailure

    probe_tasks.create_table()
    worker_process(app, modules=("tests.jobs.probe_tasks",))
    probe_tasks.always_fails("again")

    def failure() -> JobFailure | None:
        assert client.get("/healthz").status_code == 200  # the web keeps serving
        db.session.rollback()
        return db.session.scalars(select(JobFailure)).first()

    recorded = wait_for(failure, "the failure record")
    assert "RuntimeError: probe failure again" in recorded.error
    assert [r[1] for r in probe_tasks.rows("again")] == ["try", "try", "try"]
