"""Matrix 8: internal notes (and files attached to them) never reach a `user` — not in
any page, JSON answer or download the user can open. The crawl is generated from
app.url_map, so routes added later (chat, notifications, reports…) are included, with
search and filter variants that would match the note."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from helpdesk.attachments.models import Attachment
from helpdesk.attachments.services import Upload
from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from tests.conftest import PASSWORD
from tests.security.matrix import ROUTES, build_url, build_world, routes, sign_in

NOTE = "ZQX-INTERNAL-NOTE-7731"
FILE_NAME = "zqx-internal-file-7731.txt"
FILE_BODY = b"ZQX-INTERNAL-FILE-BODY-7731"
MARKERS = ("ZQX-INTERNAL", "zqx-internal", "7731")

# Query strings tried on every GET route, to reach search, filters and exports.
# (The markers themselves are never in a query: pages echo the query back.)
VARIANTS = ["", "?q=kumquat", "?q=kumq*", "?status=open&sort=updated", "?days=30", "?internal=1"]


def _texts(response) -> str:  # type: ignore[no-untyped-def]
    """Everything a person could read in the answer, including inside XLSX and PDF."""
    data = response.data
    parts = [data.decode("utf-8", "replace")]
    ctype = response.headers.get("Content-Type", "")
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts.extend(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    if "pdf" in ctype or data[:4] == b"%PDF":
        from pypdf import PdfReader

        parts.extend(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    return "\n".join(parts)


def test_internal_notes_never_reach_a_user(app):  # type: ignore[no-untyped-def]
    world = build_world("in", PASSWORD)
    # an internal note with a file on the user's own ticket, by its technician
    tickets.add_comment(
        world.users["tech"],
        world.ticket_own,
        NOTE + " kumquat **bold**",
        internal=True,
        uploads=[Upload(FILE_NAME, io.BytesIO(FILE_BODY))],
    )
    db.session.commit()
    # the user's Excel export job, finished, so the crawl reads its file too
    from helpdesk.reports.jobs import run_job

    assert run_job(world.export_jobs["user"])
    internal_file = db.session.scalars(
        select(Attachment).where(
            Attachment.internal.is_(True), Attachment.ticket_id == world.ticket_own.id
        )
    ).one()

    # the staff do see it (so the crawl below would notice if it leaked)
    staff = app.test_client()
    sign_in(staff, world.user("technician"))
    assert NOTE in staff.get(f"/tickets/{world.ticket_own.id}").get_data(as_text=True)
    assert staff.get(f"/attachments/{internal_file.id}").status_code == 200

    client = app.test_client()
    sign_in(client, world.user("user"))
    assert client.get(f"/attachments/{internal_file.id}").status_code == 404
    job_file = client.get(f"/reports/jobs/{world.export_jobs['user']}/download").data
    assert job_file[:2] == b"PK"  # a real workbook, read by the crawl below
    fetched = 0
    for endpoint, method, arguments, _ in routes(app):
        if method != "GET" or endpoint == "static" or (endpoint, method) not in ROUTES:
            continue
        for own in (True, False):
            base = build_url(app, endpoint, arguments, world, "user", own)
            for variant in VARIANTS:
                for headers in (
                    {},
                    {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"},
                ):
                    response = client.get(base + variant, headers=headers)
                    fetched += 1
                    text = _texts(response)
                    for marker in MARKERS:
                        assert marker not in text, f"GET {base}{variant} {headers} shows {marker!r}"
                    assert FILE_BODY.decode() not in text
            if not arguments:
                break
    print(f"internal-note crawl: {fetched} responses as a user")
    assert fetched > 100


def test_user_cannot_write_an_internal_note(app, client, people, make_ticket):  # type: ignore[no-untyped-def]
    ticket = make_ticket(people["user"])
    client.login("alice")
    r = client.post(f"/tickets/{ticket.id}/comments", data={"body": "sneaky", "internal": "y"})
    assert r.status_code in (302, 400, 403)
    from helpdesk.tickets.models import Comment

    rows = db.session.scalars(select(Comment).where(Comment.ticket_id == ticket.id)).all()
    assert all(not c.internal for c in rows)
