"""The clocks through the real ticket services (create, reply, waiting, priority,
category, resolve, reopen) on whichever database TEST_DATABASE_URL names."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.sla import services as sla
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import EventKind, Ticket, TicketEvent
from tests.sla.conftest import madrid


def _reload(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def test_new_desk_has_the_24x7_default_equal_to_the_old_overdue_ages(
    people, defaults, make_ticket, at
):
    assert defaults.name == sla.DEFAULT_POLICY
    assert defaults.calendar.name == sla.DEFAULT_CALENDAR
    with at(madrid(2026, 11, 13, 17, 30)):
        for priority, days in sla.DEFAULT_DAYS.items():
            t = make_ticket(people["user"], priority=priority.value)
            t = _reload(t.id)
            assert t.sla_policy_id == defaults.id
            assert t.first_response_due is None  # no promise made for the first response
            assert t.resolution_due == t.created_at + timedelta(days=days)
            assert t.sla_next_due == t.resolution_due
    # ensure_defaults is idempotent
    assert sla.ensure_defaults().id == defaults.id


def test_the_issue_scenario_friday_evening_waiting_and_reply(people, office, make_ticket, at):
    tech = people["tech"]
    with at(madrid(2026, 11, 13, 17, 30)):  # Friday
        t = make_ticket(people["user"], priority="urgent")
    t = _reload(t.id)
    assert t.sla_policy_id == office.id
    assert t.first_response_due == madrid(2026, 11, 16, 9, 30)  # Monday
    # 8 working hours: 30 min on Friday, then Monday 09:00 + 7 h 30.
    assert t.resolution_due == madrid(2026, 11, 16, 16, 30)

    with at(madrid(2026, 11, 16, 9, 10)):
        tickets.take_ticket(tech, t)
        tickets.change_status(tech, t, "waiting")
        db.session.commit()
    t = _reload(t.id)
    assert t.sla_paused_at is not None
    assert t.first_response_due is None and t.resolution_due is None
    assert t.sla_next_due is None and t.sla_next_alert is None  # nothing can breach

    with at(madrid(2026, 11, 16, 11)):
        tickets.change_status(tech, t, "in_progress")
        db.session.commit()
    t = _reload(t.id)
    # 40 of 60 minutes were used before the pause: 20 left from 11:00.
    assert t.first_response_due == madrid(2026, 11, 16, 11, 20)
    # 8 h + 1 h 50 paused from Friday 17:30: 30 min, Monday's 9 h, 20 min on Tuesday.
    assert t.resolution_due == madrid(2026, 11, 17, 9, 20)
    with at(madrid(2026, 11, 16, 11, 10)):
        tickets.add_comment(tech, t, "Looking into it")
        db.session.commit()
    t = _reload(t.id)
    assert t.sla_response_met is True
    assert t.sla_resolution_met is None


def test_resolution_due_after_a_pause_spills_into_the_next_day(people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):  # Monday
        t = make_ticket(people["user"], priority="urgent")
    t = _reload(t.id)
    assert t.resolution_due == madrid(2026, 11, 16, 17)
    with at(madrid(2026, 11, 16, 10)):
        tickets.change_status(people["admin"], t, "waiting")
        db.session.commit()
    with at(madrid(2026, 11, 16, 16)):
        tickets.change_status(people["admin"], t, "open")
        db.session.commit()
    t = _reload(t.id)
    # 1 h used, 7 h left from 16:00: 2 h on Monday, 5 h on Tuesday from 09:00.
    assert t.resolution_due == madrid(2026, 11, 17, 14)
    assert t.sla_resolution_paused_s == 6 * 3600


def test_a_late_reply_misses_the_first_response(people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
    with at(madrid(2026, 11, 16, 10, 1)):
        # The requester's own comment is not a response.
        tickets.add_comment(people["user"], t, "Anyone?")
        db.session.commit()
        assert _reload(t.id).sla_response_met is None
        tickets.add_comment(people["admin"], t, "internal", internal=True)
        db.session.commit()
        assert _reload(t.id).sla_response_met is None
        tickets.add_comment(people["admin"], t, "Sorry, on it")
        db.session.commit()
    assert _reload(t.id).sla_response_met is False


def test_priority_change_recomputes_from_the_start_and_says_so(people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="medium")
    assert _reload(t.id).first_response_due == madrid(2026, 11, 16, 18)  # 9 working hours
    with at(madrid(2026, 11, 16, 9, 30)):
        tickets.change_priority(people["admin"], _reload(t.id), "urgent")
        db.session.commit()
    t = _reload(t.id)
    assert t.first_response_due == madrid(2026, 11, 16, 10)  # from 09:00, not from 09:30
    kinds = list(
        db.session.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
        )
    )
    assert kinds[-2:] == [EventKind.PRIORITY, EventKind.SLA_RECOMPUTED]
    # Low has no promise on this policy: the clocks stop.
    with at(madrid(2026, 11, 16, 9, 40)):
        tickets.change_priority(people["admin"], t, "low")
        db.session.commit()
    t = _reload(t.id)
    assert t.first_response_due is None and t.resolution_due is None and t.sla_next_due is None


def test_category_change_picks_the_first_matching_policy(people, office, make_ticket, category, at):
    admin = people["admin"]
    network = tickets.create_category(admin, "Network", "Cables")
    vip = sla.create_policy(
        admin,
        name="Network 24x7",
        calendar_id=office.calendar_id,
        targets={"medium": (15, 60)},
        category_ids=[network.id],
        pause_when_waiting=False,
        warn_percent=50,
        notify_admins=True,
    )
    sla.move_policy(admin, vip.id, -1)
    sla.move_policy(admin, vip.id, -1)
    db.session.commit()
    assert [p.name for p in sla.list_policies()] == ["Network 24x7", "Office hours", "Default"]
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="medium")
        assert _reload(t.id).sla_policy_id == office.id
        tickets.change_category(admin, _reload(t.id), network.id)
        db.session.commit()
    t = _reload(t.id)
    assert t.sla_policy_id == vip.id
    assert t.first_response_due == madrid(2026, 11, 16, 9, 15)
    assert t.sla_next_warn == madrid(2026, 11, 16, 9, 7, 30)  # 50 % of 15 minutes


def test_resolve_meets_and_reopen_restarts_the_resolution_clock(people, office, make_ticket, at):
    admin = people["admin"]
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
    with at(madrid(2026, 11, 16, 12)):
        tickets.add_comment(admin, t, "Fixed")
        tickets.change_status(admin, t, "resolved")
        db.session.commit()
    t = _reload(t.id)
    assert t.sla_response_met is False  # 3 h for a 1 h promise
    assert t.sla_resolution_met is True
    assert t.sla_next_due is None and t.sla_next_alert is None
    with at(madrid(2026, 11, 17, 10)):
        tickets.change_status(people["user"], t, "open")
        db.session.commit()
    t = _reload(t.id)
    assert t.sla_resolution_met is None
    assert t.sla_started_at == madrid(2026, 11, 17, 10)
    assert t.resolution_due == madrid(2026, 11, 17, 18)  # a fresh 8 working hours
    assert t.sla_response_met is False  # history kept


def test_a_holiday_monday_is_skipped(people, office, make_ticket, at):
    # 2026-12-08 (Tuesday) is a national holiday in Spain (from the holidays package).
    with at(madrid(2026, 12, 7, 17, 30)):
        t = make_ticket(people["user"], priority="urgent")
    assert _reload(t.id).first_response_due == madrid(2026, 12, 9, 9, 30)


def test_recompute_open_tickets_after_a_policy_change(people, office, make_ticket, at):
    admin = people["admin"]
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
        done = make_ticket(people["user"], priority="urgent")
        tickets.change_status(admin, done, "closed")
        db.session.commit()
    before_closed = _reload(done.id).resolution_due
    sla.update_policy(
        admin,
        office.id,
        name=office.name,
        calendar_id=office.calendar_id,
        targets={"urgent": (30, 120)},
        category_ids=[],
        pause_when_waiting=True,
        warn_percent=80,
        notify_admins=False,
    )
    db.session.commit()
    assert _reload(t.id).first_response_due == madrid(2026, 11, 16, 10)  # new tickets only
    ids = sla.open_ticket_ids()
    assert t.id in ids and done.id not in ids
    assert sla.recompute_tickets(ids) == 1
    db.session.commit()
    assert _reload(t.id).first_response_due == madrid(2026, 11, 16, 9, 30)
    assert _reload(done.id).resolution_due == before_closed  # closed tickets keep theirs
