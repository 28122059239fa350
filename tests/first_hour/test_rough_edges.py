"""The rough edges a new person hit in the first hour, each pinned by a test."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "helpdesk" / "templates"
SPANISH_PO = ROOT / "helpdesk" / "translations" / "es" / "LC_MESSAGES" / "messages.po"


def spanish(client):  # type: ignore[no-untyped-def]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    return client


def test_open_buttons_say_abrir_on_chat_and_notifications(client, people, make_ticket):
    alice, tech, boss = people["user"], people["tech"], people["admin"]
    ticket = make_ticket(alice)
    tickets.assign_ticket(boss, ticket, tech.id)
    db.session.commit()
    spanish(client).login("tech")
    chat = client.get("/chat").get_data(as_text=True)
    assert re.search(r"</i>Abrir</button>", chat)
    assert "Abierto</button>" not in chat
    notes = client.get("/notifications").get_data(as_text=True)
    assert re.search(r'value="1" class="btn btn-sm btn-primary">Abrir</button>', notes)
    assert "Abierto</button>" not in notes
    # The status keeps its adjective.
    assert "Abierto" in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_no_button_borrows_a_status_or_priority_adjective():
    """A button's label is a verb; the statuses and priorities are adjectives that share
    English words ("Open") but not Spanish ones. Buttons must use a message context."""
    catalog = read_po(SPANISH_PO.open("rb"))
    adjectives = {"Open", "Closed", "Resolved", "Waiting", "In progress", "Low", "Medium", "High"}
    adjectives |= {"Urgent", "Active", "Inactive", "New", "Seen", "Sent", "Online", "Away"}
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for label in re.findall(
            r"<button[^>]*>(?:<i [^>]*></i>)?\s*\{\{ _\('([^']+)'\) \}\}", path.read_text()
        ):
            if label in adjectives:
                offenders.append(f"{path.relative_to(TEMPLATES)}: {label}")
    assert offenders == []
    assert catalog.get("Open", context="verb").string == "Abrir"
    assert catalog.get("Open").string == "Abierto"


def test_csv_content_type_has_one_charset(client, people, make_ticket):
    make_ticket(people["user"])
    client.login("boss")
    resp = client.get("/reports/export.csv")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_one_toast_area_per_page(client, people):
    client.login("alice")
    page = client.get("/").get_data(as_text=True)
    assert page.count('id="toast-area"') == 1


def test_title_counted_in_characters_with_a_counter_and_a_message(client, people, category):
    client.login("alice")
    page = client.get("/tickets/new").get_data(as_text=True)
    title_input = re.search(r'<input[^>]*id="title"[^>]*>', page).group(0)
    assert "maxlength" not in title_input  # the browser would cut a paste silently
    assert 'data-maxchars="200"' in title_input
    assert 'id="title-count"' in page and "0 of 200 characters" in page

    def create(title: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/tickets/new",
            data={
                "title": title,
                "description": "d",
                "category_id": category.id,
                "priority": "low",
            },
        )

    resp = create("x" * 2000)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "The title may have at most 200 characters; this one has 2000." in body
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    # 200 emoji are 400 UTF-16 units but 200 characters: accepted as they are.
    resp = create("😀" * 200)
    assert resp.status_code == 302
    assert db.session.scalar(select(Ticket.title)) == "😀" * 200


def test_title_message_in_spanish(client, people, category):
    spanish(client).login("alice")
    resp = client.post(
        "/tickets/new",
        data={"title": "ñ" * 201, "description": "d", "category_id": category.id},
    )
    assert "El título puede tener como máximo 200 caracteres; este tiene 201." in resp.get_data(
        as_text=True
    )


def _csv_header(client) -> list[str]:  # type: ignore[no-untyped-def]
    text = client.get("/reports/export.csv").get_data(as_text=True)
    return next(csv.reader(io.StringIO(text[1:])))


def test_exports_follow_the_profile_language_then_the_desk_default(client, people, make_ticket):
    make_ticket(people["user"])
    boss = people["admin"]
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE")
    client.login("boss")
    assert _csv_header(client)[:2] == ["Número", "Título"]  # no profile language: the desk's
    boss.locale = "en"
    db.session.commit()
    assert _csv_header(client)[:2] == ["Number", "Title"]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    boss.locale = "es"
    db.session.commit()
    assert _csv_header(client)[:2] == ["Número", "Título"]  # the browser does not decide


def test_exports_use_the_configured_desk_default(app, client, people, make_ticket):
    make_ticket(people["user"])
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    client.login("boss")
    assert _csv_header(client)[:2] == ["Number", "Title"]


def test_first_redirect_has_no_stray_question_mark(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/login?next=/", "/login?next=%2F")
    resp = client.get("/tickets?status=open")
    assert "next=/tickets?status%3Dopen" in resp.headers["Location"] or (
        "next=%2Ftickets%3Fstatus%3Dopen" in resp.headers["Location"]
    )


def test_language_switch_returns_to_the_page_without_stray_question_mark(client, people):
    client.login("alice")
    page = client.get("/tickets").get_data(as_text=True)
    assert 'name="next" value="/tickets"' in page


def test_project_license_is_an_spdx_string():
    # (tomllib is 3.11+; the project supports 3.10)
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^license = "MIT"$', text, re.M)
    assert "license = {" not in text
