"""No N+1: each page sends the same, small number of queries whatever the row count."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.tickets import services
from tests.perf.conftest import count_queries

MAX_QUERIES = 15  # a page's whole budget: session user, data, a few lookups


def _grow(people, make_ticket, n: int) -> None:
    """n more tickets, each with comments, a note and an assignment."""
    admin, tech = people["admin"], people["tech"]
    for i in range(n):
        ticket = make_ticket(people["user"] if i % 2 else people["user2"], title=f"Ticket {i}")
        services.assign_ticket(admin, ticket, tech.id)
        services.add_comment(tech, ticket, f"Reply {i}")
        services.add_comment(tech, ticket, f"Note {i}", internal=True)
        services.add_comment(people["user"] if i % 2 else people["user2"], ticket, "Thanks")
    db.session.commit()


def _queries(client, url: str) -> int:
    client.get(url)  # warm: the first request of a session may load extra once
    with count_queries() as log:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return log.count


def _pages(app) -> list[str]:
    pages = ["/", "/tickets", "/tickets?status=in_progress&q=ticket", "/tickets?sort=updated"]
    if "chat.index" in app.view_functions:  # the chat pages, once that feature has landed
        pages.append("/chat")
    return pages


@pytest.mark.parametrize("username", ["boss", "tech", "alice"])
def test_list_dashboard_and_chat_pages_do_not_grow_with_rows(
    app, client, people, make_ticket, username
):
    _grow(people, make_ticket, 2)
    client.login(username)
    few = {url: _queries(client, url) for url in _pages(app)}
    _grow(people, make_ticket, 25)
    many = {url: _queries(client, url) for url in _pages(app)}
    assert many == few
    assert max(many.values()) <= MAX_QUERIES, many
    print(username, many)


def test_ticket_page_does_not_grow_with_comments(client, people, make_ticket):
    user, tech = people["user"], people["tech"]
    small = make_ticket(user, title="Few comments")
    big = make_ticket(user, title="Many comments")
    for ticket, n in ((small, 1), (big, 50)):
        services.assign_ticket(people["admin"], ticket, tech.id)
        for i in range(n):
            services.add_comment(tech if i % 2 else user, ticket, f"Comment {i}")
            services.add_comment(tech, ticket, f"Note {i}", internal=True)
    db.session.commit()
    for username in ("boss", "tech", "alice"):
        client.login(username)
        few = _queries(client, f"/tickets/{small.id}")
        many = _queries(client, f"/tickets/{big.id}")
        assert many == few, username
        assert many <= MAX_QUERIES


def test_chat_pages_do_not_grow_with_conversations_or_messages(app, client, people, make_user):
    if "chat.index" not in app.view_functions:
        pytest.skip("the chat has not landed")
    from helpdesk.chat import services as chat

    # This counts queries, not the chat limit: the service limits every entry point.
    app.config["CHAT_RATE_LIMIT"] = "1000 per second"

    alice = people["user"]
    staff = [people["tech"], people["tech2"], people["admin"]]
    first = chat.start_conversation(alice, staff[0])
    for i in range(2):
        chat.send_message(alice, first, f"Hello {i}")
    db.session.commit()
    client.login("alice")
    few_list = _queries(client, "/chat")
    few_conv = _queries(client, f"/chat/{first.id}")
    for other in staff[1:] + [make_user("technician") for _ in range(3)]:
        conv = chat.start_conversation(alice, other)
        chat.send_message(other, conv, "Hi")
    for i in range(40):
        chat.send_message(staff[0] if i % 2 else alice, first, f"Message {i}")
    db.session.commit()
    assert _queries(client, "/chat") == few_list
    assert _queries(client, f"/chat/{first.id}") == few_conv <= MAX_QUERIES
