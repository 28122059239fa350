"""A small, fully known set of tickets for the dashboard, report and export tests.

Timestamps and assignments are written straight into the rows (test set-up, not
behaviour under test) so every figure can be computed independently in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Priority, Status, Ticket
from helpdesk.users.services import create_user
from tests.conftest import PASSWORD, make_app


@dataclass
class Spec:
    requester: str
    status: str
    priority: str
    category: str
    assignee: str | None
    age: timedelta
    first_response: timedelta | None = None
    resolution: timedelta | None = None  # resolved this long after creation
    resolved_now: bool = False  # resolved_at = now (resolved today)
    title: str = "Ticket"


@dataclass
class Row:
    """What the test knows about a ticket, independent of the app's queries."""

    id: int
    number: str
    title: str
    requester_id: int
    assignee_id: int | None
    status: str
    priority: str
    category_id: int
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


SPECS = [
    Spec(
        "alice", "open", "urgent", "Hardware", None, timedelta(days=2), title="Impresora rota ñandú"
    ),
    Spec(
        "alice",
        "in_progress",
        "high",
        "Hardware",
        "tech",
        timedelta(hours=5),
        first_response=timedelta(hours=1),
        title="VPN caída",
    ),
    Spec(
        "bob",
        "waiting",
        "low",
        "Red",
        "tech2",
        timedelta(days=20),
        first_response=timedelta(hours=2),
        title="Wi-Fi lento",
    ),
    Spec(
        "bob",
        "resolved",
        "medium",
        "Hardware",
        "tech",
        timedelta(hours=3),
        first_response=timedelta(minutes=30),
        resolved_now=True,
        title="Ratón",
    ),
    Spec("tech2", "open", "medium", "Red", None, timedelta(hours=1), title="Switch"),
    Spec(
        "alice",
        "closed",
        "low",
        "Red",
        "tech2",
        timedelta(days=40),
        first_response=timedelta(hours=4),
        resolution=timedelta(days=1),
        title="Monitor",
    ),
    Spec("bob", "open", "high", "Hardware", "boss", timedelta(days=4), title="Teclado"),
]


def visible(role: str, user_id: int, row: Row) -> bool:
    """The product contract's visibility rule, written out again for the tests."""
    if role == "admin":
        return True
    if row.requester_id == user_id:
        return True
    if role == "technician":
        return row.assignee_id in (None, user_id)
    return False


@pytest.fixture
def people(people):  # type: ignore[no-untyped-def]
    """The shared cast, reading English: exports follow the person's profile language
    (then the desk's, Spanish), not the client's Accept-Language, and these tests
    assert the source strings. A test of Spanish output sets a locale of its own."""
    for person in people.values():
        person.locale = "en"
    db.session.commit()
    return people


@pytest.fixture
def scenario(app, people):  # type: ignore[no-untyped-def]
    """Tickets per SPECS (plus a second category); returns (now, rows, people)."""
    hardware = tickets.create_category(None, "Hardware", "")
    red = tickets.create_category(None, "Red", "")
    db.session.commit()
    categories = {"Hardware": hardware.id, "Red": red.id}
    by_name = {u.username: u for u in people.values()}
    now = utcnow().replace(microsecond=0)
    rows: list[Row] = []
    for spec in SPECS:
        requester = by_name[spec.requester]
        ticket = tickets.create_ticket(
            requester,
            title=spec.title,
            description="Descripción con acentos: áéíóú ñ",
            category_id=categories[spec.category],
            priority=spec.priority,
        )
        db.session.flush()
        created = now - spec.age
        first = created + spec.first_response if spec.first_response else None
        if spec.resolved_now:
            resolved = now
        elif spec.resolution:
            resolved = created + spec.resolution
        else:
            resolved = None
        assignee_id = by_name[spec.assignee].id if spec.assignee else None
        db.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(
                status=Status(spec.status),
                priority=Priority(spec.priority),
                assignee_id=assignee_id,
                created_at=created,
                updated_at=created,
                first_response_at=first,
                resolved_at=resolved,
                closed_at=resolved if spec.status == "closed" else None,
            )
        )
        rows.append(
            Row(
                id=ticket.id,
                number=ticket.number,
                title=spec.title,
                requester_id=requester.id,
                assignee_id=assignee_id,
                status=spec.status,
                priority=spec.priority,
                category_id=categories[spec.category],
                created_at=created,
                first_response_at=first,
                resolved_at=resolved,
            )
        )
    db.session.commit()
    db.session.expire_all()
    return now, rows, people


def served_app(database: Any, tmp_path: Any, titles: list[str], **overrides: Any) -> Iterator[Any]:
    """An app used the way a server uses it (no app context pushed around requests),
    with `boss` (admin) and `alice` (user), who filed one ticket per title."""
    app = make_app(database, tmp_path, **overrides)
    with app.app_context():
        db.create_all()
        create_user(None, username="boss", password=PASSWORD, role="admin")
        alice = create_user(None, username="alice", password=PASSWORD, role="user")
        alice.locale = "en"  # exports follow the profile language (see `people`)
        cat = tickets.create_category(None, "Hardware")
        for title in titles:
            tickets.create_ticket(alice, title=title, description="x", category_id=cat.id)
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
