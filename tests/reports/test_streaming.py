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

from tests.reports.conftest import served_app


@pytest.fixture
def served(database, tmp_path):  # type: ignore[no-untyped-def]
    yield from served_app(database, tmp_path, [f"Pantalla {i} ñ" for i in range(25)])


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
