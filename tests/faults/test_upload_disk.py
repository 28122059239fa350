"""The upload folder full (a 1 MB tmpfs) or read-only: the ticket form comes back with
what was typed and a clear message, no ticket, no success message, one log line."""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.conftest import make_app


@pytest.fixture
def small_disk(tmp_path):  # type: ignore[no-untyped-def]
    mount_point = tmp_path / f"uploads-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def disk_app(database, tmp_path, small_disk):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path, UPLOAD_DIR=str(small_disk))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _text_file(size: int) -> tuple[io.BytesIO, str]:
    return io.BytesIO(b"log line\n" * (size // 9)), "trace.log"


def _post(client, category_id: int):  # type: ignore[no-untyped-def]
    return client.post(
        "/tickets/new",
        data={
            "title": "Printer smoking",
            "description": "It smells of **toast**.",
            "category_id": category_id,
            "priority": "high",
            "attachments": _text_file(2 * 1024 * 1024),
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_failing_upload_folder_keeps_the_text_and_says_why(disk_app, small_disk, caplog, fault):  # type: ignore[no-untyped-def]
    from helpdesk.tickets.services import create_category
    from helpdesk.users import services as users

    users.create_user(None, username="alice", password="Corr3ct-Horse-Battery", role="user")
    category = create_category(None, "Hardware")
    db.session.commit()
    if fault == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    client = disk_app.test_client()
    client.login("alice")
    with caplog.at_level("WARNING"):
        resp = _post(client, category.id)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "cannot store files right now" in body
    assert "Printer smoking" in body and "It smells of **toast**." in body
    assert "created" not in body
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert [r for r in caplog.records if "Cannot store an upload" in r.getMessage()]
    assert client.get("/tickets").status_code == 200
    assert "created." not in client.get("/tickets").get_data(as_text=True)
    leftovers = [p for p in Path(small_disk).rglob("*") if p.is_file()]
    assert leftovers == []


def test_check_system_reports_free_space_and_warns_below_the_threshold(disk_app):  # type: ignore[no-untyped-def]
    from helpdesk.ops.checks import free_space_checks

    checks = {what.split(":")[0]: ok for ok, what, _fix in free_space_checks()}
    assert checks["free space for uploads"] is False  # a 1 MB disk is below 1 GB
    disk_app.config["FREE_SPACE_WARN_MB"] = 0
    assert all(ok for ok, _what, _fix in free_space_checks())
