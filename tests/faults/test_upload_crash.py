"""kill -9 while a ticket with a 4 MB picture is being stored leaves no file that looks
stored without a row; `helpdesk attachments-check [--fix]` and the hourly sweep tidy
what a crash leaves in staging."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from helpdesk.attachments.models import Attachment
from helpdesk.attachments.services import STAGING_DIR, stored_path
from helpdesk.attachments.tasks import sweep_upload_storage
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]


def _crash(app, moment: str, user, category) -> int:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "faults" / "kill_mid_upload.py"),
            moment,
            app.config["SQLALCHEMY_DATABASE_URI"],
            app.config["UPLOAD_DIR"],
            str(user.id),
            str(category.id),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    return int(proc.stdout.split()[0])


def _placed(upload_dir: Path) -> list[Path]:
    return [p for p in upload_dir.glob("??/*") if p.is_file()]


def _staged(upload_dir: Path) -> list[Path]:
    return [p for p in (upload_dir / STAGING_DIR).glob("*") if p.is_file()]


def _age(paths: list[Path], hours: float = 2) -> None:
    past = time.time() - hours * 3600
    for p in paths:
        os.utime(p, (past, past))


def _cli(app, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app.cli, ["attachments-check", *args], catch_exceptions=False)


def test_kill_before_commit_leaves_only_a_staged_file_that_the_check_removes(app, people, category):  # type: ignore[no-untyped-def]
    upload_dir = Path(app.config["UPLOAD_DIR"])
    ticket_id = _crash(app, "before-commit", people["user"], category)
    db.session.rollback()  # a new snapshot: MySQL REPEATABLE READ would hide the child's commit
    assert db.session.get(Ticket, ticket_id) is None
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert _placed(upload_dir) == []  # nothing that looks stored
    staged = _staged(upload_dir)
    assert len(staged) == 1 and staged[0].stat().st_size > 4 * 1024 * 1024

    young = _cli(app)  # an upload may still be under way: left alone
    assert young.exit_code == 0 and "0 files without rows" in young.output
    _age(staged)
    listed = _cli(app)
    assert listed.exit_code == 1
    assert str(staged[0]) in listed.output and "1 files without rows" in listed.output
    fixed = _cli(app, "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert _staged(upload_dir) == [] and _placed(upload_dir) == []


def test_kill_between_commit_and_move_keeps_the_file_served_and_the_sweep_moves_it(
    app, client, people, category
):  # type: ignore[no-untyped-def]
    upload_dir = Path(app.config["UPLOAD_DIR"])
    ticket_id = _crash(app, "after-commit", people["user"], category)
    db.session.rollback()  # a new snapshot: MySQL REPEATABLE READ would hide the child's commit
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket_id)
    ).one()
    assert not stored_path(attachment.stored_name).exists()
    assert len(_staged(upload_dir)) == 1
    client.login("alice")
    download = client.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    download.close()

    sweep_upload_storage.call_local()
    assert stored_path(attachment.stored_name).is_file()
    assert _staged(upload_dir) == []
    assert _cli(app).exit_code == 0


def test_check_reports_rows_whose_file_is_gone_and_files_no_row_owns(app, people, make_ticket):  # type: ignore[no-untyped-def]
    import io

    from helpdesk.attachments.services import Upload
    from tests.views.test_route_matrix import png_bytes

    ticket = make_ticket(people["user"], uploads=[Upload("a.png", io.BytesIO(png_bytes()))])
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id)
    ).one()
    path = stored_path(attachment.stored_name)
    assert path.is_file()  # moved into place at commit
    stray = path.parent / ("f" * 40)
    stray.write_bytes(b"left over")
    _age([stray])
    path.unlink()
    result = _cli(app, "--fix")
    assert result.exit_code == 1  # the missing file cannot be repaired
    assert f"row without a file: attachment {attachment.id}" in result.output
    assert not stray.exists()
