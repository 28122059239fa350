"""The ticket page shows the service-level timeline events and targets."""

from __future__ import annotations

from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
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
