"""Matrix 4b: archive bombs posing as office documents (tests/security/corpus/archives).

Each is uploaded through the real form and must be refused with a message that says
why, leave nothing behind, and never be inflated: the request's peak memory stays far
below what the bomb unpacks to."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.attachments.models import Attachment
from helpdesk.extensions import db
from tests.security.corpus.archives import make_bombs

CORPUS = Path(make_bombs.__file__).parent
MB = 1024 * 1024

# file, what the refusal says (English source text)
CASES = [
    ("odt-mimetype-bomb.odt", b"is not a valid ODT document"),
    ("odt-bzip2-bomb.odt", b"compression method that documents do not use"),
    ("docx-50mb-bomb.docx", b"would unpack to 50 MB"),
    ("docx-overlap-bomb.docx", b"would unpack to 401 MB"),
    ("docx-many-entries.docx", b"too many parts (6001; at most 5000)"),
]


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    built = tmp_path_factory.mktemp("bombs")
    files = {name: (CORPUS / name).read_bytes() for name in make_bombs.SMALL}
    for name, build in make_bombs.LARGE.items():
        files[name] = build(built / name).read_bytes()
    return files


def _upload(client, category, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/tickets/new",
        data={
            "title": "Bomb",
            "description": "see file",
            "category_id": str(category.id),
            "priority": "low",
            "attachments": [(io.BytesIO(content), name, "application/octet-stream")],
        },
        content_type="multipart/form-data",
    )


def test_checked_in_bombs_are_small_and_really_inflate():  # type: ignore[no-untyped-def]
    import zipfile

    for name in make_bombs.SMALL:
        path = CORPUS / name
        assert path.stat().st_size < 64 * 1024, "keep the corpus small"
        with zipfile.ZipFile(path) as archive:
            declared = sum(i.file_size for i in archive.infolist())
            if "overlap" not in name:  # its twins are forged directory records by design
                assert archive.testzip() is None  # real compressed data, CRCs right
        assert declared > 4 * MB, name


@pytest.mark.parametrize(("name", "says"), CASES)
def test_bomb_is_refused_without_inflating(app, client, people, category, bombs, name, says):  # type: ignore[no-untyped-def]
    client.login("alice")
    uploads = Path(app.config["UPLOAD_DIR"])
    tracemalloc.start()
    try:
        response = _upload(client, category, name, bombs[name])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400, name
    assert says in response.data
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not [p for p in uploads.rglob("*") if p.is_file()], "refused file left on disk"
    # the upload itself is in memory a few times over; the bombs unpack to 8-400 MB
    assert peak < 8 * MB + 4 * len(bombs[name]), f"{name}: peak {peak / MB:.1f} MB"


def test_real_documents_still_pass(app, client, people, category, tmp_path):  # type: ignore[no-untyped-def]
    import zipfile

    odt = tmp_path / "letter.odt"
    with zipfile.ZipFile(odt, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), make_bombs.ODT, compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", "<office:document-content/>" + " " * 200_000)
    client.login("alice")
    assert _upload(client, category, "letter.odt", odt.read_bytes()).status_code == 302
    assert db.session.scalar(select(Attachment.content_type)) == make_bombs.ODT
