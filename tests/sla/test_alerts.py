"""Warnings and breaches: sent once per ticket and clock, to the right people, read from
the index of pending alerts; the issue's scenario end to end."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk import demo
from helpdesk.extensions import db
from helpdesk.notifications.models import Notification, NotificationKind
from helpdesk.sla import alerts
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import EventKind, Ticket, TicketEvent
from tests.perf.test_explain import _plan_problems
from tests.sla.conftest import madrid


def _sla_notifications(user) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (n.kind.value, n.detail)
        for n in db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.kind.in_(
                    [NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACHED]
                ),
            )
            .order_by(Notification.id)
        )
    ]


def _sla_events(ticket_id: int) -> list[tuple[str, str]]:
    return [
        (e.kind.value, e.new_value)
        for e in db.session.scalars(
            select(TicketEvent)
            .where(
                TicketEvent.ticket_id == ticket_id,
                TicketEvent.kind.in_([EventKind.SLA_WARNING, EventKind.SLA_BREACHED]),
            )
            .order_by(TicketEvent.id)
        )
    ]


def _sweep(at, instant) -> int:  # type: ignore[no-untyped-def]
    with at(instant):
        sent = alerts.sweep()
        db.session.commit()
    return sent


def test_the_issue_scenario_warning_then_breach_once_each(client, people, office, make_ticket, at):
    tech = people["tech"]
    with at(madrid(2026, 11, 13, 17, 30)):  # Friday evening
        t = make_ticket(people["user"], priority="urgent")
    with at(madrid(2026, 11, 13, 17, 35)):
        tickets.take_ticket(tech, t)
        db.session.commit()
    t = db.session.get(Ticket, t.id)
    assert t.first_response_due == madrid(2026, 11, 16, 9, 30)
    # 80 % of 60 working minutes: 30 on Friday, 18 on Monday.
    assert t.sla_next_warn == madrid(2026, 11, 16, 9, 18)

    assert _sweep(at, madrid(2026, 11, 14, 12)) == 0  # the weekend: nothing is due
    assert _sweep(at, madrid(2026, 11, 16, 9, 19)) == 1
    assert _sweep(at, madrid(2026, 11, 16, 9, 20)) == 0  # never twice
    assert _sla_notifications(tech) == [("sla_warning", f"{t.number} first_response")]
    assert _sweep(at, madrid(2026, 11, 16, 9, 31)) == 1
    assert _sweep(at, madrid(2026, 11, 16, 9, 32)) == 0
    assert _sweep(at, madrid(2026, 11, 16, 12)) == 0
    assert _sla_notifications(tech) == [
        ("sla_warning", f"{t.number} first_response"),
        ("sla_breached", f"{t.number} first_response"),
    ]
    assert _sla_events(t.id) == [
        ("sla_warning", "first_response"),
        ("sla_breached", "first_response"),
    ]
    assert _sla_notifications(people["user"]) == []  # the requester is not told
    assert _sla_notifications(people["tech2"]) == []  # nor another technician
    # The assignee reads it in their language on the notifications page.
    client.login("tech")
    page = client.get("/notifications").get_data(as_text=True)
    assert f"{t.number}: the first response target was breached" in page
    # The ticket page shows both events without a person's name.
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "Service level breached" in page and "Service level at risk" in page


def test_waiting_pauses_the_alerts(people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
        tickets.assign_ticket(people["admin"], t, people["tech"].id)
        tickets.change_status(people["admin"], t, "waiting")
        db.session.commit()
    assert _sweep(at, madrid(2026, 11, 16, 15)) == 0  # long past the due, but paused
    assert _sla_notifications(people["tech"]) == []
    with at(madrid(2026, 11, 16, 15)):
        tickets.change_status(people["admin"], t, "in_progress")
        db.session.commit()
    # The full hour is left from 15:00: warning at 15:48, breach at 16:00.
    assert _sweep(at, madrid(2026, 11, 16, 15, 47)) == 0
    assert _sweep(at, madrid(2026, 11, 16, 15, 49)) == 1
    assert _sweep(at, madrid(2026, 11, 16, 16, 1)) == 1
    kinds = [k for k, _ in _sla_notifications(people["tech"])]
    assert kinds == ["sla_warning", "sla_breached"]


def test_a_missed_warning_is_not_sent_after_the_breach(people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
        tickets.assign_ticket(people["admin"], t, people["tech"].id)
        db.session.commit()
    assert _sweep(at, madrid(2026, 11, 16, 11)) == 1  # the sweep was down for two hours
    assert [k for k, _ in _sla_notifications(people["tech"])] == ["sla_breached"]
    # The resolution clock (8 h) warns later, on its own.
    assert _sweep(at, madrid(2026, 11, 16, 15, 25)) == 1
    assert _sla_notifications(people["tech"])[-1] == ("sla_warning", f"{t.number} resolution")


def test_unassigned_tickets_alert_the_technicians_and_admins_by_setting(
    people, office, make_ticket, at
):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
    assert _sweep(at, madrid(2026, 11, 16, 9, 50)) == 1
    assert len(_sla_notifications(people["tech"])) == 1
    assert len(_sla_notifications(people["tech2"])) == 1
    assert _sla_notifications(people["admin"]) == []  # notify_admins is off
    office.notify_admins = True
    db.session.commit()
    assert _sweep(at, madrid(2026, 11, 16, 10, 1)) == 1
    assert [k for k, _ in _sla_notifications(people["admin"])] == ["sla_breached"]
    assert t.id


def test_met_clocks_send_nothing(people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
        tickets.add_comment(people["tech"], t, "On it")
        tickets.change_status(people["admin"], t, "resolved")
        db.session.commit()
    assert db.session.get(Ticket, t.id).sla_next_alert is None
    assert _sweep(at, madrid(2026, 11, 20, 9)) == 0


def test_the_sweep_reads_the_pending_alert_index(people, office, make_ticket, at):
    # A few thousand tickets with fresh statistics, like the other EXPLAIN checks.
    demo.seed(n_tickets=3000, n_users=50, n_techs=5, comments_per_ticket=0)
    with at(madrid(2026, 11, 16, 9)):
        for _ in range(3):
            make_ticket(people["user"], priority="urgent")
    demo._analyze()
    statement = (
        select(Ticket.id)
        .where(Ticket.sla_next_alert <= madrid(2026, 11, 16, 10).replace(tzinfo=None))
        .order_by(Ticket.sla_next_alert)
        .limit(alerts.BATCH)
    )
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    assert _plan_problems(str(compiled), ()) == []
    assert len(alerts.due_for_alert(madrid(2026, 11, 16, 10))) == 3
