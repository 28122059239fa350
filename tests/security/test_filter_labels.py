"""Matrix 8: filters never name people the reader may not see. Every filter of every
consumer (ticket list, reports page, CSV/Excel/PDF exports, the export job page, the
dashboard and its data) is opened by each role with the ids of people who are on none
of the tickets that role may see; their names must not appear anywhere in the answer."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader

from helpdesk.extensions import db
from helpdesk.reports import jobs
from tests.conftest import PASSWORD

SECRET_REQUESTER = "Zebulon Secretrequester"
SECRET_TECH = "Quintessa Hiddentech"


@pytest.fixture
def strangers(make_user, make_ticket):  # type: ignore[no-untyped-def]
    """A requester and a technician whose only ticket is assigned to the stranger tech."""
    from helpdesk.tickets import services as tickets

    hidden_user = make_user("user", "zebulon", full_name=SECRET_REQUESTER)
    hidden_tech = make_user("technician", "quintessa", full_name=SECRET_TECH)
    admin = make_user("admin", "root2")
    ticket = make_ticket(hidden_user, title="Private matter")
    tickets.assign_ticket(admin, ticket, hidden_tech.id)
    db.session.commit()
    return hidden_user, hidden_tech


def _text(response) -> str:  # type: ignore[no-untyped-def]
    data = response.get_data()
    kind = response.headers.get("Content-Type", "")
    if "pdf" in kind:
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    if "spreadsheet" in kind:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return data.decode("utf-8", "replace")


CONSUMERS = [
    "/tickets",
    "/reports",
    "/reports/export.csv",
    "/reports/export.xlsx",
    "/reports/export.pdf",
    "/",
    "/dashboard/data",
]


def _filters(requester_id: int, tech_id: int) -> list[dict[str, str]]:
    everything = {
        "status": "open",
        "priority": "low",
        "q": "matter",
        "created_from": "2000-01-01",
        "created_to": "2100-01-01",
    }
    return [
        {"requester_id": str(requester_id)},
        {"assignee": str(tech_id)},
        {"requester_id": str(requester_id), "assignee": str(tech_id), **everything},
    ]


@pytest.mark.parametrize("role_user", ["alice", "tech"])
def test_no_consumer_names_a_stranger(app, client, people, category, strangers, role_user):  # type: ignore[no-untyped-def]
    hidden_user, hidden_tech = strangers
    client.login(role_user, PASSWORD)
    checked = 0
    for path in CONSUMERS:
        for args in _filters(hidden_user.id, hidden_tech.id):
            response = client.get(path, query_string=args)
            where = f"{role_user} {path}?{args}"
            assert response.status_code in (200, 400, 403), f"{where}: {response.status_code}"
            body = _text(response)
            assert SECRET_REQUESTER not in body, where
            assert SECRET_TECH not in body, where
            checked += 1
    # the export job: its page and its file
    form = {"requester_id": str(hidden_user.id), "assignee": str(hidden_tech.id)}
    started = client.post("/reports/export.xlsx/jobs", data=form)
    assert started.status_code == 303
    page = client.get(started.headers["Location"])
    assert SECRET_REQUESTER not in _text(page) and SECRET_TECH not in _text(page)
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    assert jobs.run_job(job_id) is True
    db.session.expire_all()
    done = client.get(f"/reports/jobs/{job_id}/download")
    assert done.status_code == 200
    assert SECRET_REQUESTER not in _text(done) and SECRET_TECH not in _text(done)
    assert checked == len(CONSUMERS) * 3


def test_people_one_may_see_are_still_named(app, client, people, category, strangers, make_ticket):  # type: ignore[no-untyped-def]
    """A requester names themselves; an admin names anyone on a ticket."""
    hidden_user, hidden_tech = strangers
    client.login("alice", PASSWORD)
    page = client.get("/reports", query_string={"requester_id": people["user"].id})
    assert people["user"].display_name in page.get_data(as_text=True)
    admin = client.application.test_client()
    admin.login("boss", PASSWORD)
    page = admin.get("/reports", query_string={"requester_id": hidden_user.id})
    assert SECRET_REQUESTER in page.get_data(as_text=True)
    page = admin.get("/reports", query_string={"assignee": hidden_tech.id})
    assert SECRET_TECH in page.get_data(as_text=True)
