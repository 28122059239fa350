"""Admin pages of service levels: admin only, CSRF, audit, the issue's setup through HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from helpdesk.sla import services as sla
from helpdesk.sla.models import BusinessCalendar, Policy
from helpdesk.tickets.models import Priority, Ticket
from tests.conftest import make_app
from tests.sla.conftest import madrid

OFFICE = {
    "name": "Madrid office",
    "zone": "Europe/Madrid",
    **{d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
    "sat": "",
    "sun": "",
}


def _policy_form(calendar_id: int, **extra: str) -> dict[str, str]:
    data = {
        "name": "Office hours",
        "calendar_id": str(calendar_id),
        "pause_when_waiting": "y",
        "warn_percent": "80",
        "urgent_first_response": "60",
        "urgent_resolution": "480",
    }
    data.update(extra)
    return data


def test_only_admins_reach_the_pages(client, people, defaults):
    client.login("tech")
    for url in ("/admin/sla/policies", "/admin/sla/calendars", "/admin/sla/policies/new"):
        assert client.get(url).status_code == 403
    assert client.post("/admin/sla/calendars", data=dict(OFFICE)).status_code == 403
    assert client.post("/admin/sla/recompute").status_code == 403
    assert (
        db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == "Madrid office"))
        is None
    )
    anonymous = client.application.test_client()
    assert anonymous.get("/admin/sla/policies").status_code in (302, 401)


def test_the_issue_setup_through_the_pages(client, people, defaults, category):
    client.login("boss")
    assert "24×7" in client.get("/admin/sla/calendars").get_data(as_text=True)
    assert client.post("/admin/sla/calendars", data=dict(OFFICE), csrf=False).status_code == 400
    r = client.post("/admin/sla/calendars", data=dict(OFFICE))
    assert r.status_code == 302
    cal = db.session.scalar(
        select(BusinessCalendar).where(BusinessCalendar.name == "Madrid office")
    )
    r = client.post(
        f"/admin/sla/calendars/{cal.id}/holidays/prefill",
        data={"prefill-country": "ES", "prefill-year": "2026"},
    )
    assert r.status_code == 302
    page = client.get(f"/admin/sla/calendars/{cal.id}").get_data(as_text=True)
    assert 'data-holiday-day="2026-12-08"' in page
    r = client.post(
        f"/admin/sla/calendars/{cal.id}/holidays",
        data={"holiday-day": "2026-12-24", "holiday-name": "Nochebuena", "holiday-yearly": "y"},
    )
    assert r.status_code == 302
    assert client.post("/admin/sla/policies/new", data=_policy_form(cal.id)).status_code == 302
    policy = db.session.scalar(select(Policy).where(Policy.name == "Office hours"))
    assert policy.target(Priority.URGENT).first_response_minutes == 60
    assert policy.target(Priority.LOW).first_response_minutes is None
    r = client.post(f"/admin/sla/policies/{policy.id}/move", data={"direction": "up"})
    assert r.status_code == 302
    assert [p.name for p in sla.list_policies()] == ["Office hours", "Default"]
    page = client.get("/admin/sla/policies").get_data(as_text=True)
    assert "Office hours" in page and "60 / 480" in page
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("sla.%"))))
    assert {
        "sla.calendar_created",
        "sla.holidays_prefilled",
        "sla.holiday_added",
        "sla.policy_created",
        "sla.policy_moved",
    } <= actions


def test_bad_input_gets_a_message_not_a_500(client, people, defaults):
    client.login("boss")
    r = client.post("/admin/sla/calendars", data={**OFFICE, "mon": "9 to 5"})
    assert r.status_code == 400
    assert "Opening hours must look like 09:00-13:00, 15:00-18:00." in r.get_data(as_text=True)
    r = client.post("/admin/sla/calendars", data={**OFFICE, "zone": "Mars/Base"})
    assert r.status_code == 400
    assert "Unknown time zone" in r.get_data(as_text=True)
    r = client.post("/admin/sla/calendars", data={**OFFICE, "name": "24×7"})
    assert r.status_code == 400 and "already exists" in r.get_data(as_text=True)
    r = client.post(
        "/admin/sla/policies/new", data=_policy_form(defaults.calendar_id, name="Default")
    )
    assert r.status_code == 400 and "already exists" in r.get_data(as_text=True)
    r = client.post(
        "/admin/sla/policies/new", data=_policy_form(defaults.calendar_id, urgent_resolution="-5")
    )
    assert r.status_code == 400
    assert client.get("/admin/sla/calendars/9999").status_code == 404


def test_pages_in_spanish(client, people, defaults):
    client.login("boss")
    page = client.get("/admin/sla/policies", headers={"Accept-Language": "es"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Niveles de servicio" in text and "Recalcular tickets abiertos" in text


@pytest.fixture
def inline_app(database, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path, JOBS_BACKEND="immediate")
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_recompute_open_tickets_runs_as_a_task(inline_app, at):
    from helpdesk.tickets import services as tickets
    from helpdesk.users import services as users

    admin = users.create_user(None, username="boss", password="Corr3ct-Horse-Battery", role="admin")
    user = users.create_user(None, username="alice", password="Corr3ct-Horse-Battery", role="user")
    cat = tickets.create_category(None, "Hardware", "")
    policy = sla.ensure_defaults()
    db.session.commit()
    with at(madrid(2026, 11, 16, 9)):
        t = tickets.create_ticket(
            user, title="x", description="y", category_id=cat.id, priority="urgent"
        )
        db.session.commit()
    assert db.session.get(Ticket, t.id).resolution_due == madrid(2026, 11, 17, 9)
    policy.targets[
        [x.priority for x in policy.targets].index(Priority.URGENT)
    ].resolution_minutes = 60
    db.session.commit()
    client = inline_app.test_client()
    client.login("boss")
    assert client.post("/admin/sla/recompute").status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, t.id).resolution_due == madrid(2026, 11, 16, 10)
    assert admin.id


def test_first_start_makes_the_default(client, people):
    from helpdesk.desk import services as desk

    assert sla.list_policies() == []
    lines = desk.first_start_defaults()
    db.session.commit()
    assert any("Service levels" in line for line in lines)
    assert [p.name for p in sla.list_policies()] == [sla.DEFAULT_POLICY]
    assert desk.first_start_defaults() == []  # once
