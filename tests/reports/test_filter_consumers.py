"""Every list filter through every page and export that takes the list's filters.

The list, the reports page and each export (CSV, Excel, PDF) read the same query
string; each must accept each filter (free-text search included) and, where it lists
tickets, list exactly the tickets the filter selects — on each database. SQLite's
search once worked on the list and failed everywhere else ("no such column:
tickets_fts").
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from pypdf import PdfReader

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import services as tickets

NUMBER = re.compile(r"TKT-\d{4}-\d{6}")


@pytest.fixture
def scene(people, category, make_ticket):  # type: ignore[no-untyped-def]
    admin, alice, bob = people["admin"], people["user"], people["user2"]
    network = tickets.create_category(None, "Network")
    db.session.commit()
    t = {
        "vpn1": make_ticket(alice, "VPN drops every hour", category_id=network.id, priority="high"),
        "printer": make_ticket(alice, "Printer jam", priority="low"),
        "vpn2": make_ticket(bob, "VPN certificate expired", priority="urgent"),
        "keyboard": make_ticket(bob, "Keyboard broken", category_id=network.id),
    }
    tickets.assign_ticket(admin, t["vpn1"], people["tech"].id)
    tickets.assign_ticket(admin, t["vpn2"], people["tech2"].id)
    tickets.change_status(admin, t["keyboard"], "resolved")
    db.session.commit()
    ids = {
        "network": network.id,
        "tech": people["tech"].id,
        "bob": bob.id,
        "since": (utcnow() - timedelta(days=1)).date().isoformat(),
        "printer_number": t["printer"].number,
    }
    return {k: v.number for k, v in t.items()}, ids


# (query-string builder, the tickets it selects for the admin)
FILTERS = [
    (lambda i: {"q": "vpn"}, {"vpn1", "vpn2"}),
    (lambda i: {"q": "certificate expired"}, {"vpn2"}),
    (lambda i: {"q": "vpn", "priority": "urgent"}, {"vpn2"}),
    (lambda i: {"q": i["printer_number"]}, {"printer"}),
    (lambda i: {"q": "nothing-matches-this"}, set()),
    (lambda i: {"status": "resolved"}, {"keyboard"}),
    (lambda i: {"priority": "urgent"}, {"vpn2"}),
    (lambda i: {"category_id": i["network"]}, {"vpn1", "keyboard"}),
    (lambda i: {"assignee": "none"}, {"printer", "keyboard"}),
    (lambda i: {"assignee": i["tech"]}, {"vpn1"}),
    (lambda i: {"requester_id": i["bob"]}, {"vpn2", "keyboard"}),
    (lambda i: {"created_from": i["since"], "q": "vpn"}, {"vpn1", "vpn2"}),
    (lambda i: {"sort": "priority", "q": "vpn"}, {"vpn1", "vpn2"}),
]


def _numbers_in_list(resp) -> set[str]:  # type: ignore[no-untyped-def]
    return set(NUMBER.findall(resp.get_data(as_text=True)))


def _numbers_in_csv(resp) -> set[str]:  # type: ignore[no-untyped-def]
    text = resp.get_data().decode("utf-8").lstrip("\ufeff")
    return {row[next(iter(row))] for row in csv.DictReader(io.StringIO(text))}


def _numbers_in_xlsx(resp) -> set[str]:  # type: ignore[no-untyped-def]
    sheet = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    return {str(c.value) for c in sheet["A"] if c.value and NUMBER.fullmatch(str(c.value))}


def _numbers_in_pdf(resp) -> set[str]:  # type: ignore[no-untyped-def]
    reader = PdfReader(io.BytesIO(resp.get_data()))
    return set(NUMBER.findall("\n".join(p.extract_text() for p in reader.pages)))


CONSUMERS = {
    "/tickets": _numbers_in_list,
    "/reports/export.csv": _numbers_in_csv,
    "/reports/export.xlsx": _numbers_in_xlsx,
    "/reports/export.pdf": _numbers_in_pdf,
    "/reports": None,  # figures, not a list: it must answer
}


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_each_filter_through_each_consumer(client, scene, consumer):  # type: ignore[no-untyped-def]
    numbers, ids = scene
    client.login("boss")
    for build, selected in FILTERS:
        args = build(ids)
        resp = client.get(consumer, query_string=args)
        assert resp.status_code == 200, (consumer, args, resp.status_code)
        read = CONSUMERS[consumer]
        if read is None:
            resp.get_data()
            continue
        assert read(resp) == {numbers[k] for k in selected}, (consumer, args)


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_search_as_a_requester_through_each_consumer(client, scene, consumer):  # type: ignore[no-untyped-def]
    """A requester's search takes the narrow path (own tickets probed one by one)."""
    numbers, _ids = scene
    client.login("alice")
    resp = client.get(consumer, query_string={"q": "vpn"})
    assert resp.status_code == 200
    if CONSUMERS[consumer] is not None:
        assert CONSUMERS[consumer](resp) == {numbers["vpn1"]}
