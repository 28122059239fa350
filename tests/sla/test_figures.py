"""Dashboard counts, met shares and the list's service-level filters and sort, checked
against an independent recount in Python over every ticket, for each role."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.reports.dashboard import dashboard_data
from helpdesk.sla import business_time as bt
from helpdesk.sla import clocks
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_view_ticket
from helpdesk.tickets.queries import list_tickets, parse_filters
from tests.sla.conftest import madrid

NOW = madrid(2026, 11, 17, 12)


def _desk(people, make_ticket, at):  # type: ignore[no-untyped-def]
    admin, tech, tech2 = people["admin"], people["tech"], people["tech2"]
    plan = [  # (filed at, priority, requester, assignee, then)
        (madrid(2026, 11, 16, 9), "urgent", "user", "tech", None),  # breached (both clocks)
        (madrid(2026, 11, 17, 11, 5), "urgent", "user2", "tech2", None),  # response at risk
        (madrid(2026, 11, 17, 11, 30), "urgent", "user", None, None),  # running, not at risk
        (madrid(2026, 11, 17, 9), "urgent", "user2", "tech", "reply"),  # response met
        (madrid(2026, 11, 16, 10), "high", "user", "tech2", "waiting"),  # paused
        (madrid(2026, 11, 16, 10), "high", "user2", None, "resolve"),  # met/missed, stopped
        (madrid(2026, 11, 10, 10), "medium", "user", "tech", None),  # breached long ago
        (madrid(2026, 11, 17, 11, 50), "low", "user2", None, None),  # no promise on low
    ]
    for filed, priority, requester, assignee, then in plan:
        with at(filed):
            t = make_ticket(people[requester], priority=priority)
            if assignee:
                tickets.assign_ticket(admin, t, people[assignee].id)
            db.session.commit()
        with at(filed + timedelta(minutes=20)):
            if then == "reply":
                tickets.add_comment(people[assignee], t, "Hello")
            elif then == "waiting":
                tickets.change_status(admin, t, "waiting")
            elif then == "resolve":
                tickets.add_comment(admin, t, "Done")
                tickets.change_status(admin, t, "resolved")
            db.session.commit()
    assert tech and tech2


def _recount(actor, now):  # type: ignore[no-untyped-def]
    """From the clock state and the arithmetic, not from the derived next_* columns."""
    breached, at_risk, soon = set(), set(), set()
    for t in db.session.scalars(select(Ticket)):
        if not can_view_ticket(actor, t):
            continue
        policy = clocks.policy_of(t)
        if policy is None:
            continue
        cal = policy.calendar.to_calendar()
        late = risky = False
        dues = []
        for clock in clocks.CLOCKS:
            target = clocks.target_of(policy, t, clock)
            due = clocks.get_field(t, clock, "due")
            if target is None or due is None or clocks.get_field(t, clock, "met") is not None:
                continue
            dues.append(bt.as_utc(due))
            paused = timedelta(seconds=clocks.get_field(t, clock, "paused_s"))
            start = bt.as_utc(t.created_at if clock == "first_response" else t.sla_started_at)
            used = bt.between(cal, start, now) - paused
            if bt.as_utc(due) <= now:
                late = True
            elif used >= target * policy.warn_percent / 100:
                risky = True
        if late:
            breached.add(t.id)
        elif risky:
            at_risk.add(t.id)
        if dues and now < min(dues) <= now + timedelta(hours=1):
            soon.add(t.id)
    return breached, at_risk, soon


def test_counts_and_lists_match_a_recount_for_every_role(people, office, make_ticket, at):
    _desk(people, make_ticket, at)
    db.session.expire_all()
    with at(NOW):
        for who in ("admin", "tech", "tech2", "user", "user2"):
            actor = people[who]
            breached, at_risk, soon = _recount(actor, NOW)
            cards = dashboard_data(actor, 30)["cards"]
            assert (cards["sla_breached"], cards["sla_at_risk"]) == (len(breached), len(at_risk)), (
                who
            )
            listed = {
                t.id
                for t in list_tickets(actor, parse_filters({"sla": "breached"}), limit=100).items
            }
            assert listed == breached, who
            listed = {
                t.id
                for t in list_tickets(actor, parse_filters({"sla": "due_soon"}), limit=100).items
            }
            assert listed == soon, who
        # The admin sees everything, a user only their own.
        assert dashboard_data(people["admin"], 30)["cards"]["sla_breached"] == 2
        assert dashboard_data(people["user2"], 30)["cards"]["sla_breached"] == 0


def test_sort_by_next_due_pages_in_order(people, office, make_ticket, at):
    _desk(people, make_ticket, at)
    admin = people["admin"]
    with at(NOW):
        expected = sorted(
            (bt.as_utc(t.sla_next_due), t.id)
            for t in db.session.scalars(select(Ticket))
            if t.sla_next_due is not None
        )
        seen, cursor = [], None
        while True:
            page = list_tickets(admin, parse_filters({"sort": "due"}), cursor=cursor, limit=2)
            seen += [(bt.as_utc(t.sla_next_due), t.id) for t in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
    assert seen == expected and len(seen) >= 4


def test_met_shares_in_the_period(people, office, make_ticket, at):
    _desk(people, make_ticket, at)
    with at(NOW):
        rows = [t for t in db.session.scalars(select(Ticket))]
        for who in ("admin", "user", "user2"):
            actor = people[who]
            mine = [t for t in rows if can_view_ticket(actor, t)]

            def share(attr):  # type: ignore[no-untyped-def]
                decided = [getattr(t, attr) for t in mine if getattr(t, attr) is not None]
                return None if not decided else round(100 * sum(decided) / len(decided), 1)

            cards = dashboard_data(actor, 30)["cards"]
            assert cards["sla_first_response_met"] == share("sla_response_met"), who
            assert cards["sla_resolution_met"] == share("sla_resolution_met"), who


def test_the_dashboard_page_shows_the_cards(client, people, office):
    client.login("boss")
    page = client.get("/").get_data(as_text=True)
    assert 'data-card="sla_breached"' in page and 'data-card="sla_at_risk"' in page
    assert 'data-card="overdue"' not in page
    assert "sla=breached" in page
    listing = client.get("/tickets?sla=breached&sort=due")
    assert listing.status_code == 200
    assert client.get("/tickets?sla=nonsense").status_code == 400
