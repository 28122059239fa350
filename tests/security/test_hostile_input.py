"""Hostile input cleaned or refused at the one place that parses it (helpdesk.inputs)."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket


def test_control_characters_never_reach_the_database(client, people, category):  # type: ignore[no-untyped-def]
    client.login("alice")
    resp = client.post(
        "/tickets/new",
        data={
            "title": "Screen\x00 flick\x07ers\x1b",
            "description": "Line one\r\n\tindented\x00 line two\x0b",
            "category_id": category.id,
            "priority": "low",
        },
    )
    assert resp.status_code == 302
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.title == "Screen flickers"
    assert ticket.description.replace("\r\n", "\n") == "Line one\n\tindented line two"


def test_sign_in_with_nul_in_the_user_name_is_a_failed_sign_in(client, people):  # type: ignore[no-untyped-def]
    resp = client.post("/login", data={"username": "ali\x00ce", "password": "wrong"})
    assert resp.status_code == 401


def test_ids_beyond_the_column_range_are_not_found(client, people, make_ticket):  # type: ignore[no-untyped-def]
    ticket = make_ticket(people["user"])
    client.login("alice")
    assert client.get(f"/tickets/{ticket.id}").status_code == 200
    for value in (2**31, 2**63, 2**64, 10**40):
        assert client.get(f"/tickets/{value}").status_code == 404
        assert client.post(f"/tickets/{value}/comments", data={"body": "x"}).status_code == 404


def test_out_of_range_filter_ids_are_a_clear_400(client, people):  # type: ignore[no-untyped-def]
    client.login("boss")
    for key in ("category_id", "requester_id", "assignee"):
        resp = client.get("/tickets", query_string={key: str(2**63)})
        assert resp.status_code == 400
        assert key in resp.get_data(as_text=True)
    assert client.get("/admin/users", query_string={"role": "x"}).status_code == 400


def test_a_nameless_multipart_part_is_a_400_not_a_crash(client, people):  # type: ignore[no-untyped-def]
    body = b"--XX\r\nContent-Disposition: garbage\r\n\r\nvalue\r\n--XX--\r\n"
    resp = client.post(
        "/login", data=body, content_type="multipart/form-data; boundary=XX", csrf=False
    )
    assert resp.status_code == 400
