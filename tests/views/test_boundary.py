"""The HTTP boundary (helpdesk/web/boundary.py): one commit per request, on success only."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from helpdesk.tickets.models import Comment, Ticket


def test_every_view_runs_inside_the_boundary(app):
    views = {e: v for e, v in app.view_functions.items() if e != "static"}
    assert len(views) > 30
    assert [e for e, v in views.items() if not getattr(v, "_transactional", False)] == []


def test_a_write_is_committed_once(client, people, make_ticket):
    ticket = make_ticket(people["user"])
    client.login("alice")
    commits: list[Session] = []

    def count(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", count)
    try:
        r = client.post(f"/tickets/{ticket.id}/comments", data={"body": "Stored once"})
    finally:
        event.remove(Session, "after_commit", count)
    assert r.status_code == 302
    db.session.expunge_all()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
    assert len(commits) == 1


def test_refused_attachment_shows_the_form_again_without_the_half_made_comment(
    client, people, make_ticket
):
    ticket = make_ticket(people["user"])
    client.login("alice")
    r = client.post(
        f"/tickets/{ticket.id}/comments",
        data={"body": "Half-made comment 7f3a", "attachments": (io.BytesIO(b""), "empty.txt")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "The file empty.txt is empty." in page
    # The typed text is in the composer once; the timeline does not show it.
    assert page.count("Half-made comment 7f3a") == 1
    db.session.expunge_all()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_service_error_rolls_back_and_answers_its_status(client, people, make_ticket):
    ticket_id = make_ticket(people["user"]).id
    client.login("alice")
    r = client.post(f"/tickets/{ticket_id}/status", data={"status": "no-such-status"})
    assert r.status_code == 400
    db.session.expunge_all()
    assert db.session.get(Ticket, ticket_id).status.value == "open"


@pytest.fixture
def failing_commit():
    """A commit that fails at the database's word (as a lost connection would)."""

    def refuse(session):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    armed = {"on": False}

    def maybe(session):  # type: ignore[no-untyped-def]
        if armed["on"]:
            refuse(session)

    event.listen(Session, "before_commit", maybe)
    yield armed
    event.remove(Session, "before_commit", maybe)


def test_a_failed_commit_shows_an_error_and_no_success_message(
    client, people, category, failing_commit
):
    client.login("alice")
    failing_commit["on"] = True
    r = client.post(
        "/tickets/new",
        data={
            "title": "Never stored",
            "description": "The commit fails",
            "category_id": str(category.id),
            "priority": "low",
        },
    )
    failing_commit["on"] = False
    assert r.status_code == 500
    db.session.expunge_all()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    nxt = client.get("/tickets").get_data(as_text=True)
    assert "created" not in nxt


def test_refused_sign_in_keeps_its_audit_row(client, people):
    r = client.login("alice", "wrong password")
    assert r.status_code == 401
    db.session.expunge_all()
    rows = db.session.scalars(select(AuditLog.action)).all()
    assert "auth.login_failed" in rows
