"""A fresh desk is ready to use: default categories from init-db in the desk's language,
the administrator's setup checklist, branding, and empty states that speak to each role."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.desk import services as desk
from helpdesk.extensions import db
from helpdesk.tickets.models import Category, Ticket
from tests.cli.test_cli import invoke
from tests.conftest import make_app


def png(width: int = 2, height: int = 1) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def defaults() -> None:
    """The first start's categories, made as init-db makes them (in a forced locale: the
    test's app context is shared with the requests, and would keep a cached one)."""
    with force_locale("en"):
        desk.create_default_categories()
    db.session.commit()


@pytest.fixture
def fresh(database, tmp_path):  # type: ignore[no-untyped-def]
    def build(locale: str = "es"):  # type: ignore[no-untyped-def]
        app = make_app(database, tmp_path, BABEL_DEFAULT_LOCALE=locale)
        return app

    apps = []
    yield lambda locale="es": apps.append(build(locale)) or apps[-1]
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(
    ("locale", "names"),
    [
        ("es", ["Cuentas", "General", "Hardware", "Red", "Software"]),
        ("en", ["Accounts", "General", "Hardware", "Network", "Software"]),
    ],
)
def test_init_db_creates_default_categories_in_the_desk_language(fresh, locale, names):
    app = fresh(locale)
    result = invoke(app, "init-db")
    assert result.exit_code == 0, result.output
    for rev in ("0001", "0012"):
        assert f"  {rev}  " in result.output  # each migration on its own line
    assert "Created the default categories" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Category.name))) == names
    again = invoke(app, "init-db")
    assert "default categories" not in again.output and "Migrating" not in again.output
    with app.app_context():
        assert len(db.session.scalars(select(Category)).all()) == 5


def test_defaults_are_made_once_even_after_the_admin_deletes_them(fresh):
    app = fresh("en")
    invoke(app, "init-db")
    with app.app_context():
        for category in db.session.scalars(select(Category)):
            db.session.delete(category)
        db.session.commit()
    invoke(app, "init-db")
    with app.app_context():
        assert db.session.scalars(select(Category)).all() == []


def test_admin_sees_the_checklist_with_links_and_ticks(app, client, make_user):
    make_user("admin", "boss")
    defaults()
    client.login("boss")
    page = client.get("/").get_data(as_text=True)
    assert 'id="setup-checklist"' in page
    # categories ready; no technician, user, service level policy or branding yet
    assert "1 of 6 done" in page
    for href in ("/admin/categories", "/admin/users", "/admin/branding"):
        assert f'href="{href}"' in page
    assert "Describe the problem in a new ticket" not in page  # end-user wording
    assert "No tickets on the desk yet." in page

    make_user("technician", "tech")
    make_user("user", "alice")
    page = client.get("/").get_data(as_text=True)
    assert "3 of 6 done" in page
    from helpdesk.sla.services import ensure_defaults

    ensure_defaults()  # the 24×7 policy that migration 0011 makes on a migrated desk
    db.session.commit()
    assert "4 of 6 done" in client.get("/").get_data(as_text=True)
    resp = client.post("/admin/branding", data={"name": "Soporte ACME", "color": "#14532d"})
    assert resp.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "5 of 6 done" in page and 'href="/admin/mail"' in page
    from helpdesk.mail.models import Mailbox

    db.session.add(Mailbox(name="Soporte", address="soporte@example.com"))
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'id="setup-checklist"' not in page  # all done: gone
    assert "Soporte ACME" in page


def test_checklist_can_be_dismissed_and_is_admin_only(app, client, make_user):
    make_user("admin", "boss")
    make_user("technician", "tech")
    client.login("tech")
    page = client.get("/").get_data(as_text=True)
    assert 'id="setup-checklist"' not in page
    assert "Nothing to work on yet." in page and "unassigned queue" in page
    assert client.post("/setup/dismiss").status_code == 403
    client.post("/logout")
    client.login("boss")
    assert 'id="setup-checklist"' in client.get("/").get_data(as_text=True)
    assert client.post("/setup/dismiss").status_code == 302
    assert 'id="setup-checklist"' not in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action.like("desk.%"))) == (
        "desk.checklist_dismissed"
    )


def test_user_empty_state_speaks_to_them(client, make_user):
    make_user("user", "alice")
    client.login("alice")
    page = client.get("/").get_data(as_text=True)
    assert "File your first ticket" in page and 'id="setup-checklist"' not in page


def test_a_ticket_can_be_filed_at_once_in_a_default_category(client, make_user):
    make_user("admin", "boss")
    defaults()
    client.login("boss")
    general = db.session.scalar(select(Category).where(Category.name == "General"))
    resp = client.post(
        "/tickets/new",
        data={"title": "First", "description": "Hello", "category_id": general.id},
    )
    assert resp.status_code == 302
    assert db.session.scalar(select(Ticket.category_id)) == general.id


def test_branding_sets_name_colour_and_logo(app, client, make_user):
    make_user("admin", "boss")
    client.login("boss")
    resp = client.post(
        "/admin/branding",
        data={"name": "  Mesa   IT ", "color": "#14532D", "logo": (io.BytesIO(png()), "l.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    look = desk.branding()
    assert (look.name, look.color, look.logo_type) == ("Mesa IT", "#14532d", "image/png")
    page = client.get("/").get_data(as_text=True)
    assert "<title>Dashboard · Mesa IT</title>" in page
    css_url = f"/branding.css?v={look.version}"
    assert css_url in page and f"/branding/logo?v={look.version}" in page
    css = client.get(css_url)
    assert css.mimetype == "text/css" and "--bs-primary:#14532d" in css.get_data(as_text=True)
    logo = client.get(f"/branding/logo?v={look.version}")
    assert logo.mimetype == "image/png" and logo.data == png()
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    # Remove the logo again.
    client.post("/admin/branding", data={"name": "Mesa IT", "color": "#14532d", "remove_logo": "y"})
    assert desk.branding().logo_file is None
    assert client.get("/branding/logo").headers["Location"].endswith("/static/favicon.svg")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "color": "red"}, "Write the colour as #RRGGBB"),
        ({"name": "X", "color": "#ffff00"}, "White text on this colour is hard to read"),
        ({"name": "X" * 81, "color": "#14532d"}, "Field cannot be longer than 80 characters"),
        (
            {
                "name": "X",
                "color": "#14532d",
                "logo": (io.BytesIO(b"<svg onload=alert(1)>"), "x.svg"),
            },
            "The logo must be a PNG or JPEG image.",
        ),
        (
            {
                "name": "X",
                "color": "#14532d",
                "logo": (io.BytesIO(png() + b"0" * 600_000), "x.png"),
            },
            "The logo may be at most 512 KB.",
        ),
    ],
)
def test_branding_refuses_bad_input_with_a_message(client, make_user, data, message):
    make_user("admin", "boss")
    client.login("boss")
    resp = client.post("/admin/branding", data=data, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert desk.branding().customised is False


def test_branding_page_is_admin_only(client, make_user):
    make_user("technician", "tech")
    client.login("tech")
    assert client.get("/admin/branding").status_code == 403
    assert client.post("/admin/branding", data={"name": "x", "color": "#14532d"}).status_code == 403


def test_feature_steps_appear_only_where_their_page_exists(app, make_user, monkeypatch):
    boss = make_user("admin", "boss")
    with app.test_request_context():
        items = {item.key: item for item in desk.checklist(boss)}
    assert list(items) == [
        "categories",
        "technicians",
        "users",
        "mailbox",
        "service_levels",
        "branding",
    ]
    assert items["mailbox"].url == "/admin/mail" and not items["mailbox"].done
    monkeypatch.delitem(app.view_functions, "mail.index")
    with app.test_request_context():
        keys = [item.key for item in desk.checklist(boss)]
    assert "mailbox" not in keys and "service_levels" in keys
