"""Ticket lists: every filter, every sort, keyset pages that visit each row once."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Priority, Status, Ticket

PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}


@pytest.fixture
def desk(people, make_ticket, category):
    """22 tickets: alice's and bob's, some assigned, several sharing every sort key."""
    software = services.create_category(None, "Software")
    db.session.commit()
    admin, tech, tech2 = people["admin"], people["tech"], people["tech2"]
    tickets = []
    for i in range(22):
        requester = people["user"] if i % 3 else people["user2"]
        title = f"Ticket {i:02d}" + (" kangaroo printer" if i % 5 == 0 else "")
        ticket = make_ticket(
            requester,
            title=title,
            priority=["low", "medium", "high", "urgent"][i % 4 if i < 12 else 1],
            category_id=software.id if i % 2 else category.id,
        )
        if i % 4 == 1:
            services.assign_ticket(admin, ticket, tech.id)
        elif i % 4 == 2:
            services.assign_ticket(admin, ticket, tech2.id)
        if i % 6 == 0:
            services.change_status(admin, ticket, "waiting")
        db.session.commit()
        tickets.append(ticket)
    # Equal sort keys: most tickets share one updated_at; pages must still not repeat.
    same = datetime(2026, 3, 1, 12, 0, 0)
    db.session.execute(
        update(Ticket).where(Ticket.id.in_([t.id for t in tickets[:16]])).values(updated_at=same)
    )
    for n, t in enumerate(tickets[16:]):
        db.session.execute(
            update(Ticket)
            .where(Ticket.id == t.id)
            .values(updated_at=same + timedelta(minutes=(n * 7) % 4))
        )
    db.session.commit()
    db.session.expire_all()
    return {"tickets": tickets, "software": software, "hardware": category, **people}


def _ids(actor, **filters) -> set[int]:
    page = services.list_tickets(actor, services.TicketFilters(**filters), limit=1000)
    return {t.id for t in page.items}


def _all(desk) -> list[Ticket]:
    return [db.session.get(Ticket, t.id) for t in desk["tickets"]]


def test_each_filter(desk):
    admin = desk["admin"]
    rows = _all(desk)

    def where(pred) -> set[int]:
        return {t.id for t in rows if pred(t)}

    assert _ids(admin) == where(lambda t: True)
    assert _ids(admin, status=["waiting"]) == where(lambda t: t.status == Status.WAITING)
    assert _ids(admin, status=["open", "waiting"]) == where(
        lambda t: t.status in (Status.OPEN, Status.WAITING)
    )
    assert _ids(admin, priority=["urgent"]) == where(lambda t: t.priority == Priority.URGENT)
    assert _ids(admin, priority=["low", "high"]) == where(
        lambda t: t.priority in (Priority.LOW, Priority.HIGH)
    )
    sw = desk["software"].id
    assert _ids(admin, category_id=sw) == where(lambda t: t.category_id == sw)
    tech = desk["tech"]
    assert _ids(admin, assignee=str(tech.id)) == where(lambda t: t.assignee_id == tech.id)
    assert _ids(admin, assignee="none") == where(lambda t: t.assignee_id is None)
    assert _ids(tech, assignee="me") == where(lambda t: t.assignee_id == tech.id)
    bob = desk["user2"]
    assert _ids(admin, requester_id=bob.id) == where(lambda t: t.requester_id == bob.id)
    combined = _ids(admin, status=["open"], priority=["medium"], requester_id=desk["user"].id)
    assert combined == where(
        lambda t: (
            t.status == Status.OPEN
            and t.priority == Priority.MEDIUM
            and t.requester_id == desk["user"].id
        )
    )
    assert combined  # the combination is not vacuous


def test_free_text_filter(desk):
    admin = desk["admin"]
    rows = _all(desk)
    assert _ids(admin, q="kangaroo") == {t.id for t in rows if "kangaroo" in t.title}
    number = rows[7].number
    assert _ids(admin, q=number) == {rows[7].id}
    assert _ids(admin, q="zebra") == set()


def test_filters_never_widen_visibility(desk):
    """A user asking for someone else's tickets gets an empty list, not theirs."""
    alice, bob = desk["user"], desk["user2"]
    rows = _all(desk)
    assert _ids(alice) == {t.id for t in rows if t.requester_id == alice.id}
    assert _ids(alice, requester_id=bob.id) == set()
    assert _ids(bob, q="kangaroo") == {
        t.id for t in rows if t.requester_id == bob.id and "kangaroo" in t.title
    }
    tech2 = desk["tech2"]
    assert _ids(tech2, assignee=str(desk["tech"].id)) == set()
    assert _ids(tech2) == {t.id for t in rows if t.assignee_id in (None, tech2.id)}


def _expected_order(rows: list[Ticket], sort: str) -> list[int]:
    if sort == "newest":
        key = lambda t: -t.id  # noqa: E731
    elif sort == "oldest":
        key = lambda t: t.id  # noqa: E731
    elif sort == "updated":
        key = lambda t: (-t.updated_at.timestamp(), -t.id)  # noqa: E731
    else:
        key = lambda t: (-PRIORITY_RANK[t.priority], -t.id)  # noqa: E731
    return [t.id for t in sorted(rows, key=key)]


@pytest.mark.parametrize("actor_key", ["admin", "user"])
def test_keyset_pages_walk_every_row_once_for_each_sort(desk, actor_key):
    actor = desk[actor_key]
    rows = [t for t in _all(desk) if actor_key == "admin" or t.requester_id == actor.id]
    for sort in services.SORTS:
        if sort == "due":
            continue  # lists only tickets with a running target: tests/sla/test_figures.py
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            page = services.list_tickets(
                actor, services.TicketFilters(sort=sort), cursor=cursor, limit=4
            )
            seen.extend(t.id for t in page.items)
            pages += 1
            assert pages < 20, "pagination does not end"
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert pages > 2, sort
        assert len(seen) == len(set(seen)), f"{sort}: a row appeared twice"
        assert seen == _expected_order(rows, sort), sort


def test_keyset_pages_with_filters(desk):
    admin = desk["admin"]
    filters = services.TicketFilters(priority=["medium"], sort="priority")
    seen, cursor = [], None
    while True:
        page = services.list_tickets(admin, filters, cursor=cursor, limit=3)
        seen.extend(t.id for t in page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(_ids(admin, priority=["medium"]))
    assert len(seen) == len(set(seen)) > 6


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD_CURSORS = [
    ("newest", "%%%not-base64%%%"),
    ("newest", "e30"),  # {}
    ("newest", _b64("x")),
    ("newest", _b64([])),
    ("newest", _b64(["12"])),
    ("newest", _b64([True])),
    ("newest", _b64([1, 2])),
    ("oldest", _b64([None])),
    ("updated", _b64([5])),
    ("updated", _b64(["not a date", 3])),
    ("priority", _b64(["high", 3])),
    ("priority", _b64([[1], 3])),
    ("newest", base64.urlsafe_b64encode(b"\xff\xfe").decode()),
]


def test_malformed_cursor_is_invalid_input(people):
    for sort, cursor in BAD_CURSORS:
        with pytest.raises(InvalidInput) as info:
            services.list_tickets(people["admin"], services.TicketFilters(sort=sort), cursor=cursor)
        assert info.value.field == "cursor", (sort, cursor)


def test_malformed_cursor_and_filters_answer_400_with_a_message(client, people):
    client.login("alice")
    for sort, cursor in BAD_CURSORS[:4] + BAD_CURSORS[8:10]:
        resp = client.get("/tickets", query_string={"sort": sort, "cursor": cursor})
        assert resp.status_code == 400, (sort, cursor)
        assert b"page link is not valid" in resp.data
    for args in (
        {"status": "nonsense"},
        {"priority": "extreme"},
        {"sort": "random"},
        {"category_id": "abc"},
        {"assignee": "someone"},
    ):
        resp = client.get("/tickets", query_string=args)
        assert resp.status_code == 400, args
        assert b"must be" in resp.data


def test_list_view_pages_through_with_next_link(client, desk, monkeypatch):
    """The page's own "next" link leads through every row of the list once."""
    import re

    # pages of 5 rows so 22 tickets need 5 pages (the default page is 25)
    monkeypatch.setattr(services.list_tickets, "__kwdefaults__", {"cursor": None, "limit": 5})
    client.login("boss")
    pages = 0
    url = "/tickets?sort=updated"
    seen: list[str] = []
    for _ in range(10):
        resp = client.get(url)
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        pages += 1
        seen.extend(dict.fromkeys(re.findall(r"TKT-\d{4}-\d{6}", html)))
        match = re.search(r'rel="next" href="([^"]+)"', html)
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    assert pages == 5
    assert sorted(seen) == sorted(t.number for t in _all(desk))
