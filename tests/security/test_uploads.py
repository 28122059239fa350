"""Matrix 4: hostile uploads through the real form (POST /tickets/new), then what is
served back: always `attachment`, or an inline raster image, with nosniff and a
sandboxing CSP; nothing stored outside UPLOAD_DIR; refused files leave nothing behind."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.attachments.models import Attachment
from helpdesk.extensions import db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
JPEG = (
    bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + b"\x00" * 64 + b"\xff\xd9"
)
PHP = b"<?php system($_GET['c']); ?>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
GIF_JS = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;window.__pwned=1;//" + b"\x00" * 16
ZIP_HTML = b"PK\x03\x04" + b"\x00" * 26 + b"<html><script>alert(1)</script>"

# (file name, content, content type claimed by the browser, accepted?)
CASES = [
    ("shell.jpg.php", PHP, "image/jpeg", False),
    ("shell.php", PHP, "application/x-php", False),
    ("x.php%00.jpg", PHP, "image/jpeg", False),
    ("x.php\x00.jpg", PHP, "image/jpeg", False),
    ("real.php%00.jpg", JPEG, "image/jpeg", True),  # a real JPEG: kept, served as an image
    ("spoofed.png", HTML, "image/png", False),
    ("spoofed.pdf", PHP, "application/pdf", False),
    ("image.svg", SVG, "image/svg+xml", False),
    ("image.png", SVG, "image/png", False),
    ("notes.txt", SVG, "text/plain", False),
    ("page.html", HTML, "text/html", False),
    ("page.htm", HTML, "text/html", False),
    ("page.txt", HTML, "text/plain", False),
    ("polyglot.gif", GIF_JS, "image/gif", True),  # a valid GIF header: served as image/gif
    ("polyglot.js", GIF_JS, "application/javascript", False),
    ("archive.docx", ZIP_HTML, "application/msword", None),  # either refused or download-only
    ("empty.png", b"", "image/png", False),
    ("x" * 10_000 + ".png", PNG, "image/png", True),
    ("../../../../etc/passwd.txt", b"root:x:0:0\n", "text/plain", True),
    ("..\\..\\windows\\win.ini.txt", b"[fonts]\n", "text/plain", True),
    ("/absolute/path.png", PNG, "image/png", True),
    ('quote".png', PNG, "image/png", None),  # the multipart encoding may cut the name
    ("<script>alert(1)</script>.png", PNG, "image/png", True),
    ("rtl\u202egnp.exe", PNG, "image/png", False),
    ("CON.png", PNG, "image/png", True),
]


@pytest.fixture
def submit(client, people, category):  # type: ignore[no-untyped-def]
    client.login("alice")

    def post(name: str, content: bytes, mime: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/tickets/new",
            data={
                "title": "Upload",
                "description": "see file",
                "category_id": str(category.id),
                "priority": "low",
                "attachments": [(io.BytesIO(content), name, mime)],
            },
            content_type="multipart/form-data",
        )

    return post


def _count() -> int:
    return int(db.session.scalar(select(func.count(Attachment.id))))


def _files(app) -> set[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["UPLOAD_DIR"])
    return {p for p in root.rglob("*") if p.is_file()}


def test_hostile_files(app, client, submit):  # type: ignore[no-untyped-def]
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    tried = 0
    for name, content, mime, accepted in CASES:
        before_rows, before_files = _count(), _files(app)
        r = submit(name, content, mime)
        tried += 1
        where = f"{name[:60]!r} ({mime})"
        assert r.status_code in (302, 400), f"{where}: HTTP {r.status_code}"
        if r.status_code == 400:
            assert accepted is not True, f"{where} was refused"
            assert _count() == before_rows and _files(app) == before_files, f"{where}: left data"
            continue
        assert accepted is not False, f"{where} was accepted"
        att = db.session.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
        # stored under a random name inside UPLOAD_DIR, whatever the name was
        for new in _files(app) - before_files:
            assert root in new.resolve().parents and new.name == att.stored_name
        assert "/" not in att.original_name and "\\" not in att.original_name
        assert "\x00" not in att.original_name and len(att.original_name) <= 200
        served = client.get(f"/attachments/{att.id}")
        assert served.status_code == 200
        assert served.data == content
        h = served.headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in h["Content-Security-Policy"]
        disposition = h["Content-Disposition"]
        if h["Content-Type"] in ("image/png", "image/jpeg", "image/gif", "image/webp"):
            assert disposition.startswith(("inline", "attachment")), where
        else:
            assert disposition.startswith("attachment"), f"{where}: {disposition}"
        assert "\n" not in disposition and "\r" not in disposition
        assert not h["Content-Type"].startswith(
            ("text/html", "image/svg", "application/javascript")
        )
        # the file name shown on the ticket page is escaped text
        page = client.get(r.headers["Location"])
        assert b"<script>alert(1)</script>" not in page.data
    print(f"hostile uploads tried: {tried}")


def test_oversize_file_is_413_and_leaves_nothing(app, submit):  # type: ignore[no-untyped-def]
    app.config["MAX_UPLOAD_MB"] = 1
    before_rows, before_files = _count(), _files(app)
    r = submit("big.png", PNG + b"\x00" * (1024 * 1024 + 10), "image/png")
    assert r.status_code == 413
    assert b"too large" in r.data.lower() or b"larger" in r.data.lower()
    assert _count() == before_rows and _files(app) == before_files


def test_request_over_max_content_length_is_413(app, submit):  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    r = submit("big.png", PNG + b"\x00" * (128 * 1024), "image/png")
    assert r.status_code == 413


def test_too_many_files(client, people, category):  # type: ignore[no-untyped-def]
    client.login("alice")
    files = [(io.BytesIO(PNG), f"f{i}.png", "image/png") for i in range(6)]
    r = client.post(
        "/tickets/new",
        data={
            "title": "t",
            "description": "d",
            "category_id": str(category.id),
            "priority": "low",
            "attachments": files,
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and _count() == 0


def test_polyglot_is_not_run_as_script(live_server, page):  # type: ignore[no-untyped-def]
    """Even if some page could be made to load the polyglot as a script, nosniff with
    image/gif stops Chromium from running it."""
    pytest.importorskip("playwright")
    from helpdesk.attachments.services import Upload
    from helpdesk.tickets.services import create_category, create_ticket
    from helpdesk.users.services import create_user
    from tests.conftest import PASSWORD, browser_login

    with live_server.app.app_context():
        alice = create_user(None, username="alice", password=PASSWORD)
        cat = create_category(None, "Hardware")
        ticket = create_ticket(
            alice,
            title="t",
            description="d",
            category_id=cat.id,
            priority="low",
            uploads=[Upload("polyglot.gif", io.BytesIO(GIF_JS))],
        )
        db.session.commit()
        att_id = db.session.scalar(select(Attachment.id).where(Attachment.ticket_id == ticket.id))
    browser_login(page, live_server, "alice")
    page.goto(f"{live_server.url}/tickets/{ticket.id}")
    result = page.evaluate(
        """(src) => new Promise((resolve) => {
            const s = document.createElement('script');
            s.src = src;
            s.onload = () => resolve('loaded:' + String(window.__pwned));
            s.onerror = () => resolve('blocked:' + String(window.__pwned));
            document.head.appendChild(s);
        })""",
        f"/attachments/{att_id}",
    )
    assert result.endswith("undefined"), result


test_polyglot_is_not_run_as_script = pytest.mark.browser(test_polyglot_is_not_run_as_script)
