"""Two real worker processes sweeping at the same time send each alert once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.jobs import enqueue_after_commit
from helpdesk.notifications.models import Notification, NotificationKind
from helpdesk.sla import services as sla
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import EventKind, TicketEvent
from tests.conftest import wait_for
from tests.jobs import probe_tasks
from tests.sla import sweep_probe

N = 40  # tickets of each kind
SWEEPS = 8


@pytest.mark.multiprocess
def test_two_workers_send_each_alert_once(app, people, defaults, make_ticket, at, worker_process):
    admin, tech = people["admin"], people["tech"]
    fast = sla.create_policy(
        admin,
        name="Fast",
        calendar_id=defaults.calendar_id,
        targets={"urgent": (60, 100)},
        category_ids=[],
        pause_when_waiting=True,
        warn_percent=80,
        notify_admins=False,
    )
    sla.move_policy(admin, fast.id, -1)
    db.session.commit()
    now = utcnow()
    # Filed 70 minutes ago: the first response (60) is breached, resolution (100) not warned.
    # Filed 50 minutes ago: the first response is past its warning (48), not its due.
    for minutes_ago in (70, 50):
        with at(now - timedelta(minutes=minutes_ago)):
            for _ in range(N):
                t = make_ticket(people["user"], priority="urgent")
                tickets.assign_ticket(admin, t, tech.id)
                db.session.commit()
    probe_tasks.create_table()
    workers = [worker_process(app, workers=2, modules=("tests.sla.sweep_probe",)) for _ in range(2)]
    # Waves of sweeps until both processes have run some (each takes what it can;
    # the first wave runs four at once on two threads in each process).
    pids: set[int] = set()
    wave = 0
    while len(pids) < 2 and wave < 10:
        tokens = [f"sweep-{wave}-{i}" for i in range(SWEEPS)]
        for token in tokens:
            enqueue_after_commit(sweep_probe.sweep_and_note, token)
        db.session.commit()
        wait_for(lambda: all(probe_tasks.rows(t, "swept") for t in tokens), "a wave of sweeps")
        pids |= {probe_tasks.rows(t, "swept")[0][2] for t in tokens}
        wave += 1
    for worker in workers:
        worker.stop()  # lets any task under way commit first
    assert pids == {w.pid for w in workers}
    db.session.rollback()

    def count(kind):  # type: ignore[no-untyped-def]
        return db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == tech.id, Notification.kind == kind)
        )

    assert count(NotificationKind.SLA_BREACHED) == N
    assert count(NotificationKind.SLA_WARNING) == N
    events = db.session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.kind.in_([EventKind.SLA_WARNING, EventKind.SLA_BREACHED]))
    )
    assert events == 2 * N
