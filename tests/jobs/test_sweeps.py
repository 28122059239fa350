"""The periodic sweeps, with rows on both sides of each limit and more rows than one
run takes."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy import select

from helpdesk.auth import services as auth
from helpdesk.auth.models import LoginSession
from helpdesk.auth.tasks import sweep_login_sessions
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.jobs import huey
from helpdesk.reports import jobs
from helpdesk.reports.models import ExportJob, ExportStatus
from helpdesk.reports.tasks import sweep_exports


def _session(user, created_at):  # type: ignore[no-untyped-def]
    row = LoginSession(id=secrets.token_hex(32), user_id=user.id, created_at=created_at)
    db.session.add(row)
    return row.id


def test_login_sessions_past_their_lifetime_are_swept_in_bounded_runs(app, people):
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    now = utcnow()
    expired = [_session(people["user"], now - timedelta(hours=hours, minutes=m)) for m in (3, 2, 1)]
    fresh = _session(people["user"], now - timedelta(hours=hours) + timedelta(minutes=1))
    db.session.commit()
    assert auth.remove_expired_sessions(hours, limit=2) == 2  # the two oldest
    db.session.commit()
    left = set(db.session.scalars(select(LoginSession.id)))
    assert left == {expired[2], fresh}
    sweep_login_sessions.call_local()  # the periodic task, as a worker runs it
    db.session.rollback()  # a new snapshot (MySQL's REPEATABLE READ)
    assert set(db.session.scalars(select(LoginSession.id))) == {fresh}


def _job(owner, status, **times):  # type: ignore[no-untyped-def]
    job = ExportJob(
        id=secrets.token_hex(16),
        owner_id=owner.id,
        format="xlsx",
        filters=json.dumps({}),
        locale="en",
        status=status,
        rows_done=0,
        file_name="x.xlsx",
        **times,
    )
    db.session.add(job)
    return job.id


def test_the_export_sweep_fails_stale_resends_lost_and_removes_old(app, people):
    now = utcnow()
    boss = people["admin"]
    stale = _job(
        boss,
        ExportStatus.RUNNING,
        created_at=now - timedelta(minutes=10),
        heartbeat_at=now - jobs.STALE_AFTER - timedelta(seconds=5),
    )
    alive = _job(
        boss,
        ExportStatus.RUNNING,
        created_at=now - timedelta(minutes=10),
        heartbeat_at=now - jobs.STALE_AFTER + timedelta(seconds=30),
    )
    lost = _job(
        boss, ExportStatus.QUEUED, created_at=now - jobs.REQUEUE_AFTER - timedelta(seconds=5)
    )
    waiting = _job(boss, ExportStatus.QUEUED, created_at=now - timedelta(seconds=5))
    old = _job(boss, ExportStatus.DONE, created_at=now - jobs.KEEP_FOR - timedelta(minutes=1))
    recent = _job(boss, ExportStatus.DONE, created_at=now - jobs.KEEP_FOR + timedelta(minutes=5))
    db.session.commit()
    assert huey.pending_count() == 0
    sweep_exports.call_local()
    db.session.rollback()
    status = {j.id: j.status for j in db.session.scalars(select(ExportJob))}
    assert status == {
        stale: ExportStatus.FAILED,
        alive: ExportStatus.RUNNING,
        lost: ExportStatus.QUEUED,
        waiting: ExportStatus.QUEUED,
        recent: ExportStatus.DONE,
    }
    assert old not in status
    # the lost job is on the queue again (after the sweep's commit), the waiting one not
    assert [t.args for t in huey.pending()] == [(lost,)]


def test_a_sweep_run_is_bounded(app, people):
    now = utcnow()
    for minutes in range(5):
        _job(
            people["admin"],
            ExportStatus.QUEUED,
            created_at=now - jobs.REQUEUE_AFTER - timedelta(minutes=minutes + 1),
        )
    db.session.commit()
    assert jobs.requeue_lost(limit=3) == 3
    db.session.commit()
    assert huey.pending_count() == 3
