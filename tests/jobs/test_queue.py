"""The queue contract: tasks after commit, in their own unit of work, plain
arguments, failures recorded; real workers on SQLite and Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.jobs import enqueue_after_commit
from helpdesk.jobs.models import JobFailure
from helpdesk.jobs.queue import claim_slot
from helpdesk.jobs.worker import worker_status
from tests.conftest import REDIS_TEST_URL, make_app, wait_for
from tests.jobs import probe_tasks


@pytest.fixture
def inline_app(database, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path, JOBS_BACKEND="immediate")
    with app.app_context():
        db.create_all()
        probe_tasks.create_table()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_enqueue_after_commit_runs_only_once_committed(inline_app):
    enqueue_after_commit(probe_tasks.record, "committed")
    assert probe_tasks.rows("committed") == []  # not before the commit
    db.session.commit()
    assert [r[1] for r in probe_tasks.rows("committed")] == ["done"]


def test_nothing_is_enqueued_on_rollback(inline_app):
    enqueue_after_commit(probe_tasks.record, "rolled-back")
    db.session.rollback()
    db.session.commit()
    assert probe_tasks.rows("rolled-back") == []


def test_a_task_that_raises_rolls_back_and_is_recorded_failed(inline_app):
    probe_tasks.always_fails("boom")
    # Inline mode does not wait out the retry delays: the first try is the one seen.
    kinds = [r[1] for r in probe_tasks.rows("boom")]
    assert kinds == ["try"]  # "kept" was written in the task's transaction: rolled back


def test_tasks_take_plain_values_not_rows(inline_app, make_user):
    user = make_user("user")
    with pytest.raises(TypeError, match="ids and plain values"):
        probe_tasks.record(user)
    with pytest.raises(TypeError):
        enqueue_after_commit(probe_tasks.record, user)


def test_a_periodic_minute_is_claimed_once(app):
    slot = datetime(2026, 12, 1, 10, 5)
    assert claim_slot("x.sweep", slot) is True
    assert claim_slot("x.sweep", slot) is False
    assert claim_slot("y.sweep", slot) is True  # each task its own
    assert claim_slot("x.sweep", slot + timedelta(minutes=1)) is True
    assert claim_slot("x.sweep", slot) is False  # never backwards


def _run_through_worker(app, worker_process, **worker):  # type: ignore[no-untyped-def]
    probe_tasks.create_table()
    assert worker_status() == "none"
    proc = worker_process(app, modules=("tests.jobs.probe_tasks",), **worker)
    db.session.rollback()  # a new snapshot (MySQL's REPEATABLE READ)
    assert worker_status() == "ok"
    enqueue_after_commit(probe_tasks.record, "through-worker")
    db.session.commit()
    done = wait_for(lambda: probe_tasks.rows("through-worker"), "the task's effect")
    assert done[0][2] == proc.pid  # it ran in the worker, not here

    probe_tasks.always_fails("worker-boom")

    def first_failure() -> JobFailure | None:
        db.session.rollback()
        return db.session.scalars(select(JobFailure)).first()

    failure = wait_for(first_failure, "the recorded failure")
    assert failure.task == "tests.jobs.probe_tasks.always_fails"
    assert "probe failure worker-boom" in failure.error
    assert [r[1] for r in probe_tasks.rows("worker-boom")] == ["try"] * 3  # 1 + 2 retries
    proc.stop()
    assert proc.proc.returncode == 0
    db.session.rollback()
    assert worker_status() == "none"  # a worker that stopped cleanly removes its row


def test_worker_on_sqlite_queue(app, worker_process):
    _run_through_worker(app, worker_process, workers=2)


def test_worker_on_redis_queue(database, tmp_path, worker_process, redis_prefix):
    app = make_app(
        database,
        tmp_path,
        JOBS_BACKEND="redis",
        REDIS_URL=REDIS_TEST_URL,
        JOBS_REDIS_PREFIX=redis_prefix,
    )
    with app.app_context():
        db.create_all()
        try:
            _run_through_worker(app, worker_process)
        finally:
            db.session.remove()
            db.engine.dispose()
