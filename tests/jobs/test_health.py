"""The worker's health as the web and check-system see it, and `helpdesk run`
bringing up the web server with a worker (what `make run` runs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpdesk.cli import check_system
from helpdesk.extensions import db
from helpdesk.jobs.models import JobWorker
from helpdesk.jobs.worker import worker_env
from helpdesk.reports import jobs as export_jobs
from helpdesk.reports.models import ExportJob, ExportStatus
from helpdesk.tickets import services as tickets
from tests.conftest import wait_for, worker_reported
from tests.realtime.cluster import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_tells_whether_a_worker_reports(app, client, worker_process):
    def health():  # type: ignore[no-untyped-def]
        # The test client's requests share this test's app context and session: end
        # its transaction so each sees what the worker wrote (MySQL's REPEATABLE READ).
        db.session.rollback()
        return client.get("/healthz").get_json()

    got = health()
    assert (got["status"], got["database"], got["worker"]) == ("ok", "ok", "none")
    worker = worker_process(app)
    assert health()["worker"] == "ok"
    worker.stop()
    assert health()["worker"] == "none"
    worker_reported(app, seconds_ago=3 * app.config["JOBS_HEARTBEAT_SECONDS"] + 5)
    assert health()["worker"] == "late"


def _check(app, monkeypatch, **env):  # type: ignore[no-untyped-def]
    for key in ("WEB_CONCURRENCY", "HELPDESK_PROCESSES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    db.session.rollback()
    return app.test_cli_runner().invoke(check_system).output


def test_check_system_wants_a_worker_and_redis_for_several_processes(
    app, monkeypatch, worker_process
):
    out = _check(app, monkeypatch)
    assert "FAIL background worker reporting (none ever did) — start one" in out
    db.session.rollback()
    quiet = app.test_cli_runner().invoke(check_system, ["--no-worker-check"]).output
    assert "background worker" not in quiet  # a service's start-up check
    worker_process(app)
    out = _check(app, monkeypatch)
    assert "OK   background worker reporting (last" in out
    assert "OK   job queue suits the number of server processes (sqlite)" in out
    out = _check(app, monkeypatch, HELPDESK_PROCESSES="2")
    assert "FAIL job queue suits the number of server processes (sqlite)" in out
    assert "set REDIS_URL" in out
    worker_reported(app, seconds_ago=121)
    db.session.execute(db.delete(JobWorker).where(JobWorker.id != "test:1"))
    db.session.commit()
    assert "FAIL background worker reporting (last 12" in _check(app, monkeypatch)


def test_run_serves_with_a_worker_and_ctrl_c_stops_both(app, people, tmp_path):
    port = free_port()
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "run", "--port", str(port)],
        env=worker_env(app),
        cwd=str(ROOT),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: the test's Ctrl-C goes to it alone
    )
    try:
        wait_port(port, proc, "helpdesk run")

        def worker_pid() -> int | None:
            db.session.rollback()
            row = db.session.scalars(db.select(JobWorker)).first()
            return int(row.id.rsplit(":", 1)[1]) if row else None

        child = wait_for(worker_pid, "the worker started by `helpdesk run`")
        assert child != proc.pid
        job = export_jobs.start_xlsx_job(people["admin"], tickets.parse_filters({}), locale="en")
        db.session.commit()

        def done() -> bool:
            db.session.rollback()
            return db.session.get(ExportJob, job.id).status == ExportStatus.DONE

        wait_for(done, "the export job built by run's worker", timeout=120)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(timeout=60) is not None

        def gone() -> bool:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return True
            return False

        wait_for(gone, "the worker to stop with the server")
        db.session.rollback()
        assert db.session.scalars(db.select(JobWorker)).first() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_run_no_worker_serves_alone(app, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "run", "--no-worker", "--port", str(port)],
        env=worker_env(app),
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_port(port, proc, "helpdesk run --no-worker")
        os.killpg(proc.pid, signal.SIGINT)
        out = proc.communicate(timeout=60)[0].decode()
        assert "background worker" not in out
        db.session.rollback()
        assert db.session.scalars(db.select(JobWorker)).first() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
