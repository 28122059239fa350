"""Dashboard figures per role, checked against counts computed here from known data."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import pytest

from helpdesk.errors import PermissionDenied
from helpdesk.reports import services as reports
from tests.reports.conftest import visible

OPEN = ("open", "in_progress", "waiting")
OVERDUE = {"urgent": 1, "high": 3, "medium": 7, "low": 14}
ROLES = ["boss", "tech", "tech2", "alice", "bob"]


def expected_figures(role, user_id, rows, now, days=30):  # type: ignore[no-untyped-def]
    mine = [r for r in rows if visible(role, user_id, r)]
    status = Counter(r.status for r in mine)
    start_of_day = now.replace(hour=0, minute=0, second=0)
    first_day = now.date() - timedelta(days=days - 1)
    recent = [r for r in mine if r.created_at.date() >= first_day]  # N UTC days, today included
    firsts = [
        (r.first_response_at - r.created_at).total_seconds() for r in recent if r.first_response_at
    ]
    resolutions = [(r.resolved_at - r.created_at).total_seconds() for r in recent if r.resolved_at]
    day_list = [first_day + timedelta(days=i) for i in range(days)]
    return {
        "open": status["open"],
        "in_progress": status["in_progress"],
        "waiting": status["waiting"],
        "resolved_today": sum(1 for r in mine if r.resolved_at and r.resolved_at >= start_of_day),
        "overdue": sum(
            1
            for r in mine
            if r.status in OPEN and r.created_at < now - timedelta(days=OVERDUE[r.priority])
        ),
        "status": [status[s] for s in ("open", "in_progress", "waiting", "resolved", "closed")],
        "priority": [
            sum(1 for r in mine if r.priority == p) for p in ("low", "medium", "high", "urgent")
        ],
        "category": Counter(r.category_id for r in mine),
        "avg_first": sum(firsts) / len(firsts) if firsts else None,
        "avg_resolution": sum(resolutions) / len(resolutions) if resolutions else None,
        "created": [sum(1 for r in mine if r.created_at.date() == d) for d in day_list],
        "resolved": [
            sum(1 for r in mine if r.resolved_at and r.resolved_at.date() == d) for d in day_list
        ],
    }


def close(a, b):  # type: ignore[no-untyped-def]
    if a is None or b is None:
        return a is b
    return abs(a - b) < 2  # SQLite's julianday arithmetic is exact to the millisecond


@pytest.mark.parametrize("username", ROLES)
def test_dashboard_json_matches_independent_counts(client, scenario, username):
    now, rows, people = scenario
    user = next(u for u in people.values() if u.username == username)
    expected = expected_figures(user.role.value, user.id, rows, now)
    client.login(username)
    resp = client.get("/dashboard/data?days=30")
    assert resp.status_code == 200
    data = resp.get_json()
    cards = data["cards"]
    for key in ("open", "in_progress", "waiting", "resolved_today", "overdue"):
        assert cards[key] == expected[key], key
    assert data["status"]["keys"] == ["open", "in_progress", "waiting", "resolved", "closed"]
    assert data["status"]["counts"] == expected["status"]
    assert data["priority"]["counts"] == expected["priority"]
    assert dict(zip(data["category"]["keys"], data["category"]["counts"])) == {
        k: v for k, v in expected["category"].items()
    }
    assert close(cards["avg_first_response"], expected["avg_first"])
    assert close(cards["avg_resolution"], expected["avg_resolution"])
    assert data["trend"]["created"] == expected["created"]
    assert data["trend"]["resolved"] == expected["resolved"]
    assert len(data["trend"]["days"]) == 30
    assert data["trend"]["days"][-1] == now.date().isoformat()
    if username == "boss":
        assert data["workload"] is not None
    else:
        assert data["workload"] is None


def test_user_never_sees_figures_of_other_tickets(client, scenario, make_user):
    now, rows, people = scenario
    make_user("user", "carol")  # has filed nothing
    client.login("carol")
    data = client.get("/dashboard/data").get_json()
    assert all(v == 0 for k, v in data["cards"].items() if isinstance(v, int))
    assert data["cards"]["avg_first_response"] is None
    assert sum(data["status"]["counts"]) == 0
    assert sum(data["priority"]["counts"]) == 0
    assert data["category"]["counts"] == []
    assert sum(data["trend"]["created"]) + sum(data["trend"]["resolved"]) == 0
    assert data["workload"] is None

    alice = people["user"]
    client.post("/logout")
    client.login("alice")
    data = client.get("/dashboard/data").get_json()
    assert sum(data["status"]["counts"]) == sum(1 for r in rows if r.requester_id == alice.id)


def test_workload_per_technician_by_priority_admin_only(app, scenario):
    now, rows, people = scenario
    workload = reports.technician_workload(people["admin"])
    assert workload["priorities"] == ["low", "medium", "high", "urgent"]
    names = {t["name"]: i for i, t in enumerate(workload["technicians"])}
    for person in (people["tech"], people["tech2"], people["admin"]):
        expected = Counter(
            r.priority for r in rows if r.assignee_id == person.id and r.status in OPEN
        )
        index = names[person.display_name]
        for priority in ("low", "medium", "high", "urgent"):
            assert workload["series"][priority][index] == expected[priority]
    for who in ("tech", "user"):
        with pytest.raises(PermissionDenied):
            reports.technician_workload(people[who])


def test_dashboard_days_must_be_a_known_range(client, scenario):
    client.login("boss")
    assert client.get("/dashboard/data?days=7").status_code == 200
    assert client.get("/dashboard/data?days=100000").status_code == 400
    assert client.get("/dashboard/data?days=abc").status_code == 400


def test_dashboard_requires_login(client, app):
    resp = client.get("/dashboard/data")
    assert resp.status_code in (302, 401)


def test_dashboard_page_loads_chart_script_without_inline_code(client, scenario):
    client.login("boss")
    html = client.get("/").get_data(as_text=True)
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/dashboard.js" in html
    assert 'data-url="/dashboard/data"' in html
    assert 'id="chart-workload"' in html
    client.post("/logout")
    client.login("alice")
    assert 'id="chart-workload"' not in client.get("/").get_data(as_text=True)


def test_overdue_at_the_edge_of_each_priority_limit(people, make_ticket):
    """One minute either side of each limit, and half a day either side: the per-day
    rows answer whole days, the tickets table the limit's own day (both halves)."""
    from sqlalchemy import update

    from helpdesk.db import utcnow
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    now = datetime.combine(utcnow().date(), time(12, 0))
    alice, tech = people["user"], people["tech"]
    expected = {"admin": 0, "tech": 0, "user": 0, "user2": 0}
    for priority, days in OVERDUE.items():
        limit = now - timedelta(days=days)
        for shift in (timedelta(minutes=-1), timedelta(minutes=1), timedelta(hours=-13),
                      timedelta(hours=13)):  # fmt: skip
            ticket = make_ticket(alice, priority=priority)
            db.session.execute(
                update(Ticket).where(Ticket.id == ticket.id).values(created_at=limit + shift)
            )
            if shift < timedelta(0):
                expected["admin"] += 1
                expected["tech"] += 1  # unassigned: in the technician's queue
                expected["user"] += 1
    closed = make_ticket(alice, priority="urgent")
    db.session.execute(
        update(Ticket)
        .where(Ticket.id == closed.id)
        .values(created_at=now - timedelta(days=30), status="closed")
    )
    db.session.commit()
    for who, want in expected.items():
        assert reports.overdue_count(people[who], now) == want, who
    assert reports.overdue_count(tech, now + timedelta(days=15)) == 4 * 4  # all past their limit
