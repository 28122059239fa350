"""The ticket page shows the service-level timeline events and targets."""

from __future__ import annotations

from flask_babel import force_locale

from helpdesk.extensions import db
from helpdesk.sla.display import ticket_targets
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket
from tests.sla.conftest import madrid


def test_timeline_shows_the_recompute_without_a_person(client, people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="medium")
        tickets.change_priority(people["admin"], t, "urgent")
        db.session.commit()
    client.login("boss")
    page = client.get(f"/tickets/{t.id}")
    assert page.status_code == 200
    assert "Service-level targets recomputed" in page.get_data(as_text=True)


def _targets(client, ticket_id: int) -> dict[str, str]:
    import re

    # The clock jumps days between requests: a fresh sign-in at each moment.
    client = client.application.test_client()
    client.login("tech")
    html = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    out = {}
    for clock, state, body in re.findall(
        r'data-sla-clock="(\w+)" data-sla-state="(\w+)">(.*?)</li>', html, re.S
    ):
        text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
        out[clock] = f"{state}: {text}"
    return out


def test_targets_in_words_through_the_day(client, people, office, make_ticket, at):
    with at(madrid(2026, 11, 13, 17, 30)):
        t = make_ticket(people["user"], priority="urgent")
    with at(madrid(2026, 11, 13, 17, 40)):
        shown = _targets(client, t.id)
    assert shown["first_response"].startswith("running: First response In 50 min (working time)")
    assert shown["resolution"].startswith("running: Resolution In 7 h 50 min (working time)")
    with at(madrid(2026, 11, 16, 9, 20)):
        shown = _targets(client, t.id)
    assert shown["first_response"].startswith("at_risk: First response At risk: In 10 min")
    with at(madrid(2026, 11, 16, 12, 30)):
        shown = _targets(client, t.id)
        assert shown["first_response"].startswith("breached: First response Breached 3 hours ago")
        with client.application.test_request_context(), force_locale("es"):
            spanish = [v.text for v in ticket_targets(db.session.get(Ticket, t.id))]
        assert spanish[0] == "Incumplido hace 3 horas"
    with at(madrid(2026, 11, 16, 12, 30)):
        tickets.take_ticket(people["tech"], t)
        tickets.change_status(people["tech"], t, "waiting")
        db.session.commit()
        shown = _targets(client, t.id)
    assert shown["first_response"].startswith("paused: First response Paused, already breached")
    # 8 h target: 30 min Friday + 3 h 30 Monday used → 4 h left.
    assert shown["resolution"].startswith("paused: Resolution Paused, 4 h left (working time)")
    with at(madrid(2026, 11, 16, 13)):
        tickets.change_status(people["tech"], t, "resolved")
        db.session.commit()
        shown = _targets(client, t.id)
    assert shown["first_response"].startswith("missed: First response Missed")
    assert shown["resolution"].startswith("met: Resolution Met")


def test_no_policy_no_card(client, people, make_ticket):
    t = make_ticket(people["user"])
    client.login("alice")
    assert 'id="sla-targets"' not in client.get(f"/tickets/{t.id}").get_data(as_text=True)
