"""Exports parsed back and compared with the filtered ticket list; safety properties."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from helpdesk.reports import services as reports
from helpdesk.reports.exports import pdf as pdf_export
from helpdesk.tickets import services as tickets
from tests.reports.conftest import visible

PAYLOADS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://x")']
UNICODE_TITLE = "Café ñandú — ¿Qué pasa? 😀🎉"


def read_csv(resp):  # type: ignore[no-untyped-def]
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def read_xlsx(resp):  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    return book.active


def read_pdf_text(resp):  # type: ignore[no-untyped-def]
    reader = PdfReader(io.BytesIO(resp.get_data()))
    return [page.extract_text() for page in reader.pages]


def expected_numbers(role, user, rows, **where):  # type: ignore[no-untyped-def]
    out = []
    for r in rows:
        if not visible(role, user.id, r):
            continue
        if all(getattr(r, k) in v for k, v in where.items()):
            out.append(r.number)
    return sorted(out, key=lambda n: next(r.id for r in rows if r.number == n))


def audit_rows():  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "report.export")))


@pytest.mark.parametrize("username", ["boss", "tech", "alice"])
def test_csv_matches_filtered_list(client, scenario, username):
    now, rows, people = scenario
    user = next(u for u in people.values() if u.username == username)
    client.login(username)
    resp = client.get("/reports/export.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    disposition = resp.headers["Content-Disposition"]
    assert f"tickets_{now.date().isoformat()}" in disposition or "tickets_" in disposition
    assert disposition.endswith('.csv"')
    data = read_csv(resp)
    assert [d["Number"] for d in data] == expected_numbers(user.role.value, user, rows)
    by_number = {r.number: r for r in rows}
    for d in data:
        r = by_number[d["Number"]]
        assert d["Title"] == r.title
        assert d["Created (UTC)"] == r.created_at.strftime("%Y-%m-%d %H:%M:%S")
        if r.first_response_at:
            hours = (r.first_response_at - r.created_at).total_seconds() / 3600
            assert float(d["First response (hours)"]) == pytest.approx(hours, abs=0.01)
        else:
            assert d["First response (hours)"] == ""


def test_csv_filters_are_the_list_filters(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    resp = client.get("/reports/export.csv?status=open&status=waiting&priority=urgent&priority=low")
    numbers = [d["Number"] for d in read_csv(resp)]
    assert numbers == expected_numbers(
        "admin", people["admin"], rows, status=("open", "waiting"), priority=("urgent", "low")
    )
    assert numbers  # the filter selects something
    # the same filters in the ticket list service give the same tickets
    filters = tickets.parse_filters({"status": ["open", "waiting"], "priority": ["urgent", "low"]})
    listed = tickets.list_tickets(people["admin"], filters, limit=100).items
    assert sorted(t.number for t in listed) == sorted(numbers)


def test_date_range_filter(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    start = (now.date()).isoformat()
    data = read_csv(client.get(f"/reports/export.csv?created_from={start}"))
    expected = [r.number for r in rows if r.created_at.date() >= now.date()]
    assert sorted(d["Number"] for d in data) == sorted(expected)


def test_xlsx_typed_cells_and_layout(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    resp = client.get("/reports/export.xlsx")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = read_xlsx(resp)
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Number", "Title", "Status"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in body] == [r.number for r in rows]
    col = {name: i for i, name in enumerate(header)}
    for values, r in zip(body, rows):
        created = values[col["Created (UTC)"]]
        assert isinstance(created, datetime)
        assert created.replace(second=0) == r.created_at.replace(second=0, tzinfo=None)
        hours = values[col["First response (hours)"]]
        if r.first_response_at:
            expected = (r.first_response_at - r.created_at).total_seconds() / 3600
            assert isinstance(hours, (int, float)) and not isinstance(hours, bool)
            assert hours == pytest.approx(expected, abs=0.01)
        else:
            assert hours is None


def test_pdf_report(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    resp = client.get("/reports/export.pdf?category_id=" + str(rows[0].category_id))
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].endswith('.pdf"')
    pages = read_pdf_text(resp)
    text = "\n".join(pages)
    assert "Tickets report" in text
    assert "Category: Hardware" in text  # the filters applied
    assert "Generated" in text
    assert "Summary" in text
    expected = [r.number for r in rows if r.category_id == rows[0].category_id]
    for number in expected:
        assert number in text
    others = [r.number for r in rows if r.category_id != rows[0].category_id]
    for number in others:
        assert number not in text
    assert "ñandú" in text  # accents through the Unicode font
    assert f"Page 1 / {len(pages)}" in pages[0]


def test_pdf_repeats_header_and_numbers_pages(client, app, people, make_ticket):
    for i in range(120):
        make_ticket(people["user"], title=f"Ticket número {i}")
    client.login("boss")
    pages = read_pdf_text(client.get("/reports/export.pdf"))
    assert len(pages) >= 3
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} / {len(pages)}" in page
        if i > 1:
            assert "Number" in page and "Title" in page  # table header repeated


def test_pdf_limit_sends_back_to_reports_with_message(client, scenario, monkeypatch):
    monkeypatch.setattr(pdf_export, "PDF_ROW_LIMIT", 3)
    client.login("boss")
    resp = client.get("/reports/export.pdf?priority=high")
    assert resp.status_code == 200  # 2 high tickets: within the limit
    resp = client.get("/reports/export.pdf")
    assert resp.status_code == 303
    assert "/reports" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "PDF is limited to 3" in page
    assert "CSV or Excel" in page


def test_formula_injection_neutralised(client, app, people, make_ticket):
    # titles are whitespace-normalised on creation; write the raw payloads as set-up
    from sqlalchemy import update

    from helpdesk.tickets.models import Ticket

    for payload in PAYLOADS:
        ticket = make_ticket(people["user"], title="placeholder")
        db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(title=payload))
    db.session.commit()
    client.login("alice")
    titles = [row["Title"] for row in read_csv(client.get("/reports/export.csv"))]
    assert titles == ["'" + p for p in PAYLOADS]
    sheet = read_xlsx(client.get("/reports/export.xlsx"))
    for row_no, payload in enumerate(PAYLOADS, start=2):
        cell = sheet.cell(row=row_no, column=2)
        assert cell.data_type == "s"  # a string, never a formula
        # XlsxWriter stores CR as the OOXML escape _x000D_ (Excel reads it back as CR;
        # openpyxl leaves inline strings escaped)
        assert cell.value in ("'" + payload, "'" + payload.replace("\r", "_x000D_"))


def test_formula_characters_inside_text_left_alone(app):
    assert reports.neutralise("a=b") == "a=b"
    assert reports.neutralise("") == ""
    assert reports.neutralise("-") == "'-"


def test_accents_and_emoji_survive(client, app, people, make_ticket):
    make_ticket(people["user"], title=UNICODE_TITLE)
    client.login("alice")
    assert read_csv(client.get("/reports/export.csv"))[0]["Title"] == UNICODE_TITLE
    sheet = read_xlsx(client.get("/reports/export.xlsx"))
    assert sheet.cell(row=2, column=2).value == UNICODE_TITLE
    text = "\n".join(read_pdf_text(client.get("/reports/export.pdf")))
    assert UNICODE_TITLE in text  # emoji through the Noto Color Emoji fallback font


def test_user_export_excludes_foreign_tickets_and_internal_notes(client, scenario):
    now, rows, people = scenario
    alice, tech = people["user"], people["tech"]
    mine = next(r for r in rows if r.requester_id == alice.id and r.assignee_id == tech.id)
    ticket = tickets.get_ticket(tech, mine.id)
    tickets.add_comment(tech, ticket, "SECRETO interno: no mostrar", internal=True)
    tickets.add_comment(tech, ticket, "Respuesta pública", internal=False)
    db.session.commit()
    client.login("alice")
    own = {r.number for r in rows if r.requester_id == alice.id}
    csv_text = client.get("/reports/export.csv").get_data(as_text=True)
    assert {d["Number"] for d in csv.DictReader(io.StringIO(csv_text[1:]))} == own
    xlsx = client.get("/reports/export.xlsx").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    xlsx_values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    pdf_text = "\n".join(read_pdf_text(client.get("/reports/export.pdf")))
    for r in rows:
        if r.requester_id != alice.id:
            assert r.number not in csv_text
            assert r.number not in xlsx_values
            assert r.number not in pdf_text
    for blob in (csv_text, " ".join(map(str, xlsx_values)), pdf_text):
        assert "SECRETO" not in blob
    # a user cannot widen the set with filters naming someone else
    bob = people["user2"]
    data = read_csv(client.get(f"/reports/export.csv?requester_id={bob.id}"))
    assert data == []


def test_every_export_is_audited(client, scenario):
    client.login("tech")
    assert audit_rows() == []
    client.get("/reports/export.csv?status=open").get_data()
    client.get("/reports/export.xlsx").get_data()
    client.get("/reports/export.pdf").get_data()
    entries = audit_rows()
    assert [json.loads(e.detail)["format"] for e in entries] == ["csv", "xlsx", "pdf"]
    assert all(e.actor.username == "tech" for e in entries)
    assert json.loads(entries[0].detail)["filters"] == {"status": ["open"]}


def test_exports_require_login_and_valid_filters(client, scenario):
    for fmt in ("csv", "xlsx", "pdf"):
        assert client.get(f"/reports/export.{fmt}").status_code in (302, 401)
    client.login("boss")
    assert client.get("/reports/export.csv?status=bogus").status_code == 400
    assert client.get("/reports/export.csv?created_from=yesterday").status_code == 400


def test_pdf_without_any_unicode_font_still_works(client, scenario, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf_export, "FONT_DIR", tmp_path)
    monkeypatch.setattr(pdf_export, "DEBIAN_FONT_DIR", tmp_path)
    client.login("boss")
    resp = client.get("/reports/export.pdf")
    assert resp.status_code == 200
    assert "Tickets report" in "\n".join(read_pdf_text(resp))


def test_pdf_follows_the_readers_locale(client, scenario):
    now, rows, people = scenario
    people["admin"].locale = "es"
    db.session.commit()
    client.login("boss")
    pages = read_pdf_text(client.get("/reports/export.pdf?priority=urgent"))
    text = "\n".join(pages)
    assert "Informe de tickets" in text
    assert "Prioridad: Urgente" in text
    assert f"Página 1 / {len(pages)}" in pages[0]
    assert rows[0].number in text
