"""Concurrent writers on SQLite wait for each other; none sees "database is locked" or a 500."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets.models import Comment, Ticket
from tests.conftest import backend

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="SQLite locking only")

THREADS = 8
ROUNDS = 6


def test_concurrent_writers_never_fail(app, people, make_ticket, category):
    ticket_id = make_ticket(people["user"]).id
    statuses: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        client = app.test_client()
        try:
            client.login("alice" if n % 2 else "bob")
            start.wait()
            for i in range(ROUNDS):
                created = client.post(
                    "/tickets/new",
                    data={
                        "title": f"Writer {n} round {i}",
                        "description": "Concurrent write",
                        "category_id": category.id,
                        "priority": "medium",
                    },
                )
                statuses.append(created.status_code)
                if n % 2:  # alice also comments on the one shared ticket
                    commented = client.post(
                        f"/tickets/{ticket_id}/comments", data={"body": f"Comment {n}/{i}"}
                    )
                    statuses.append(commented.status_code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert statuses and set(statuses) == {302}, sorted(set(statuses))
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1 + THREADS * ROUNDS
    comments = db.session.scalar(select(func.count()).select_from(Comment))
    assert comments == (THREADS // 2) * ROUNDS
