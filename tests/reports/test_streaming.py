"""Exports streamed the way a real server runs them: no app context around the request.

The `client` fixture runs inside the test's app context, which keeps the request's
database session alive while the body streams; a server does not. These tests use
an app whose context is popped before the request, so the body generator runs after
the view's session is gone, as under gunicorn or `helpdesk run`.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from helpdesk.users.services import create_user
from tests.conftest import PASSWORD, make_app


@pytest.fixture
def served(database, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path)
    with app.app_context():
        db.create_all()
        create_user(None, username="boss", password=PASSWORD, role="admin")
        alice = create_user(None, username="alice", password=PASSWORD, role="user")
        cat = tickets.create_category(None, "Hardware")
        for i in range(25):
            tickets.create_ticket(
                alice, title=f"Pantalla {i} ñ", description="x", category_id=cat.id
            )
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def streamed_body(client, url):  # type: ignore[no-untyped-def]
    resp = client.get(url, buffered=False)
    assert resp.status_code == 200
    chunks = list(resp.response)
    resp.close()
    return chunks


def test_csv_streams_in_chunks_after_the_view_returned(served):
    client = served.test_client()
    client.login("alice")
    chunks = streamed_body(client, "/reports/export.csv")
    text = b"".join(chunks).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == 25
    assert rows[0]["Title"] == "Pantalla 0 ñ"
    assert len(chunks) >= 2  # the header goes out before the rows are read


def test_xlsx_streams_after_the_view_returned(served):
    client = served.test_client()
    client.login("boss")
    chunks = streamed_body(client, "/reports/export.xlsx")
    assert chunks[0] == b""  # headers leave at once; the workbook follows
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert sheet.max_row == 26
