"""Attachments: real files of every allowed type, hostile content and names,
size limits, storage outside the web root, and the download route's headers."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from fpdf import FPDF
from PIL import Image
from sqlalchemy import func, select

from helpdesk.attachments.models import Attachment
from helpdesk.attachments.services import Upload, attachment_path
from helpdesk.errors import InvalidInput
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket
from tests.conftest import make_app


def image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def pdf() -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text="Hello")
    return bytes(doc.output())


def docx(extra: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"/>',
        )
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("word/document.xml", "<w:document/>")
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return buf.getvalue()


def xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "héllo"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def plain_zip(**files: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


ALLOWED = [
    ("photo.png", image("PNG"), "image/png"),
    ("photo.JPG", image("JPEG"), "image/jpeg"),
    ("anim.gif", image("GIF"), "image/gif"),
    ("report.pdf", pdf(), "application/pdf"),
    (
        "letter.docx",
        docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("sheet.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.txt", "Hola, ¿qué tal? ñandú 🙂\n".encode(), "text/plain"),
    ("server.log", b"2026-01-01 12:00 started\n", "text/plain"),
    ("bundle.zip", plain_zip(**{"a.txt": b"a"}), "application/zip"),
]

WRONG_CONTENT = [
    ("evil.png", b"<html><script>alert(1)</script></html>"),
    ("evil.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
    ("picture.pdf", image("PNG")),
    ("photo.jpg", pdf()),
    ("readme.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100),  # a Windows program
    ("readme.txt", b"<!DOCTYPE html><html><body>hi</body></html>"),
    ("readme.txt", b"\x00\x01\x02binary"),
    ("letter.docx", plain_zip(**{"evil.exe": b"MZ\x90\x00"})),  # a ZIP posing as a document
    ("letter.docx", b"PK\x03\x04 truncated archive"),
    ("sheet.xlsx", docx()),  # a Word file named as a spreadsheet
    ("program.exe", b"just text"),  # extension not on the allow-list
    ("noextension", image("PNG")),
    ("page.html", b"<p>hi</p>"),
]


def _store(ticket, actor, name: str, content: bytes):
    return services.add_comment(
        actor, ticket, "see file", uploads=[Upload(name, io.BytesIO(content))]
    )


def _files_on_disk(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]


def test_allowed_types_are_stored_by_content(app, people, make_ticket):
    alice = people["user"]
    ticket = make_ticket(alice)
    for name, content, mime in ALLOWED:
        _store(ticket, alice, name, content)
        db.session.commit()
        att = db.session.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
        assert (att.original_name, att.content_type, att.size) == (name, mime, len(content))
        assert att.sha256 == hashlib.sha256(content).hexdigest()
        assert re.fullmatch(r"[0-9a-f]{40}", att.stored_name), "stored under a random name"
        path = attachment_path(att)
        assert path.read_bytes() == content
        assert path.parent.parent == Path(app.config["UPLOAD_DIR"]).resolve()
        assert name not in str(path)


def test_uploads_live_outside_the_web_root(app):
    upload_dir = Path(app.config["UPLOAD_DIR"]).resolve()
    static = Path(app.static_folder).resolve()
    assert static not in upload_dir.parents and upload_dir != static
    from helpdesk.config import load_settings

    default = load_settings({"HELPDESK_INSTANCE_DIR": str(upload_dir.parent / "inst")}).upload_dir
    assert static not in Path(default).resolve().parents


def test_wrong_content_behind_an_allowed_extension_is_refused(app, people, make_ticket):
    alice = people["user"]
    ticket = make_ticket(alice)
    for name, content in WRONG_CONTENT:
        with pytest.raises(InvalidInput) as info:
            _store(ticket, alice, name, content)
        assert info.value.field == "attachments", name
        db.session.rollback()
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert _files_on_disk(app) == [], "refused files must not stay on disk"


def test_empty_file_is_refused(app, people, make_ticket):
    ticket = make_ticket(people["user"])
    with pytest.raises(InvalidInput) as info:
        _store(ticket, people["user"], "empty.txt", b"")
    assert "empty" in info.value.message


HOSTILE_NAMES = [
    ("../../x.png", "x.png"),
    ("..\\x.png", "x.png"),
    ("..\\..\\windows\\system32\\x.png", "x.png"),
    ("/etc/cron.d/x.png", "x.png"),
    ("x\x00.png", "x.png"),
    ("x\x00.php\x00.png", "x.php.png"),
    ("in\r\nvoice.png", "invoice.png"),
    ('quo"te.png', "quo'te.png"),
    ("a<b>c:d|e?f*.png", "a_b_c_d_e_f_.png"),
    ("  . x.png . ", "x.png"),
    ("résumé café 📎.png", "résumé café 📎.png"),
    (unicodedata.normalize("NFD", "résumé.png"), "résumé.png"),
    ("\u202egnp.exe.png", "gnp.exe.png"),  # right-to-left override is a control char
]


def test_path_traversal_and_hostile_names_are_neutralised(app, people, make_ticket):
    alice = people["user"]
    ticket = make_ticket(alice)
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    png = image("PNG")
    for raw, cleaned in HOSTILE_NAMES + [("A" * 10_000 + ".png", None)]:
        _store(ticket, alice, raw, png)
        db.session.commit()
        att = db.session.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
        if cleaned is None:  # 10,000 characters: cut, extension kept
            assert len(att.original_name) <= 200 and att.original_name.endswith(".png")
        else:
            assert att.original_name == cleaned, repr(raw)
        path = attachment_path(att)
        assert root in path.parents
        assert path.read_bytes() == png
    # nothing was written anywhere but the upload folder's two-level layout
    for path in _files_on_disk(app):
        assert path.parent.parent == root


def test_names_that_clean_to_nothing_are_refused(app, people, make_ticket):
    ticket = make_ticket(people["user"])
    for raw in ("..", "../..", "\x00\x00", "...png"):
        with pytest.raises(InvalidInput):
            _store(ticket, people["user"], raw, image("PNG"))
        db.session.rollback()


def test_upload_through_the_form_then_download(client, people, category):
    client.login("alice")
    resp = client.post(
        "/tickets/new",
        data={
            "title": "With files",
            "description": "see attached",
            "category_id": category.id,
            "priority": "low",
            "attachments": [
                (io.BytesIO(image("PNG")), "../../screen shot.png"),
                (io.BytesIO(pdf()), "informe año.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.data[:400]
    atts = list(db.session.scalars(select(Attachment).order_by(Attachment.id)))
    assert [a.original_name for a in atts] == ["screen shot.png", "informe año.pdf"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    for att in atts:
        assert f"/attachments/{att.id}" in page

    png = client.get(f"/attachments/{atts[0].id}")
    assert png.status_code == 200 and png.data == image("PNG")
    assert png.mimetype == "image/png"
    assert png.headers["X-Content-Type-Options"] == "nosniff"
    disposition = png.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert "filename*=UTF-8''screen%20shot.png" in disposition
    assert "sandbox" in png.headers["Content-Security-Policy"]

    doc = client.get(f"/attachments/{atts[1].id}")
    assert doc.status_code == 200 and doc.mimetype == "application/pdf"
    assert doc.headers["X-Content-Type-Options"] == "nosniff"
    disposition = doc.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
    assert match and unquote(match.group(1)) == "informe año.pdf"
    assert 'filename="informe ano.pdf"' in disposition  # the ASCII fallback


@pytest.mark.parametrize("name,content", [("a.txt", b"hello"), ("x.xlsx", xlsx())])
def test_non_images_are_never_inline(client, people, make_ticket, name, content):
    ticket = make_ticket(people["user"])
    _store(ticket, people["user"], name, content)
    db.session.commit()
    att = db.session.scalars(select(Attachment)).one()
    client.login("alice")
    resp = client.get(f"/attachments/{att.id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_foreign_and_staff_only_attachments_are_not_downloadable(client, people, make_ticket):
    alice, tech = people["user"], people["tech"]
    ticket = make_ticket(alice)
    _store(ticket, alice, "mine.png", image("PNG"))
    services.add_comment(
        tech,
        ticket,
        "staff only",
        internal=True,
        uploads=[Upload("internal.pdf", io.BytesIO(pdf()))],
    )
    db.session.commit()
    public, internal = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert internal.internal is True

    client.login("bob")  # not his ticket
    for att in (public, internal):
        resp = client.get(f"/attachments/{att.id}")
        assert resp.status_code == 404 and b"%PDF" not in resp.data
        assert b"mine.png" not in resp.data
    client.post("/logout")
    client.login("alice")  # her ticket, but the file is on a staff note
    assert client.get(f"/attachments/{public.id}").status_code == 200
    resp = client.get(f"/attachments/{internal.id}")
    assert resp.status_code == 404 and b"%PDF" not in resp.data
    assert b"internal.pdf" not in client.get(f"/tickets/{ticket.id}").data
    assert client.get("/attachments/999999").status_code == 404


def test_missing_file_on_disk_is_a_404(client, people, make_ticket):
    ticket = make_ticket(people["user"])
    _store(ticket, people["user"], "gone.png", image("PNG"))
    db.session.commit()
    att = db.session.scalars(select(Attachment)).one()
    attachment_path(att).unlink()
    client.login("alice")
    assert client.get(f"/attachments/{att.id}").status_code == 404


@pytest.fixture
def small_app(database, tmp_path):
    """An app whose per-file limit is 1 MB (so the request limit is 6 MB)."""
    app = make_app(database, tmp_path, MAX_UPLOAD_MB=1)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_oversize_file_is_413_with_a_clear_message(small_app, tmp_path):
    from helpdesk.users import services as users
    from tests.conftest import PASSWORD

    users.create_user(None, username="alice", password=PASSWORD)
    category = services.create_category(None, "Hardware")
    db.session.commit()
    assert small_app.config["MAX_CONTENT_LENGTH"] == 6 * 1024 * 1024
    client = small_app.test_client()
    client.login("alice")

    def post(size: int):
        return client.post(
            "/tickets/new",
            data={
                "title": "Big",
                "description": "d",
                "category_id": category.id,
                "priority": "low",
                "attachments": [(io.BytesIO(b"x" * size), "big.txt")],
            },
            content_type="multipart/form-data",
        )

    # over the per-file limit: refused by the service
    resp = post(1024 * 1024 + 1)
    assert resp.status_code == 413
    assert "larger than the limit of 1 MB" in resp.get_data(as_text=True)
    # over the whole-request limit: refused by the server before reading it all
    resp = post(7 * 1024 * 1024)
    assert resp.status_code == 413
    assert "at most 1 MB" in resp.get_data(as_text=True)
    # just under the limit is fine
    assert post(1024 * 1024).status_code == 302

    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    assert len(_files_on_disk(small_app)) == 1, "refused files must not stay on disk"


def test_too_many_files_at_once(app, people, make_ticket):
    ticket = make_ticket(people["user"])
    limit = app.config["MAX_FILES_PER_UPLOAD"]
    uploads = [Upload(f"f{i}.txt", io.BytesIO(b"x")) for i in range(limit + 1)]
    with pytest.raises(InvalidInput):
        services.add_comment(people["user"], ticket, "many", uploads=uploads)


def test_the_service_lists_only_the_files_the_actor_may_download(people, make_ticket):
    """The attachments service decides from its actor (not its caller) which files show."""
    from helpdesk.attachments.permissions import can_download
    from helpdesk.attachments.services import ticket_attachments
    from helpdesk.errors import NotFound

    alice, tech, bob = people["user"], people["tech"], people["user2"]
    ticket = make_ticket(alice, uploads=[Upload("public.txt", io.BytesIO(b"for everyone"))])
    services.add_comment(
        tech, ticket, "Staff only", internal=True,
        uploads=[Upload("internal.txt", io.BytesIO(b"staff only"))],
    )  # fmt: skip
    db.session.commit()
    for actor in (alice, tech, people["admin"]):
        listed = ticket_attachments(actor, ticket)
        every = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id))
        assert [a.id for a in listed] == [a.id for a in every if can_download(actor, a)]
    assert [a.original_name for a in ticket_attachments(alice, ticket)] == ["public.txt"]
    assert len(ticket_attachments(tech, ticket)) == 2
    with pytest.raises(NotFound):
        ticket_attachments(bob, ticket)
