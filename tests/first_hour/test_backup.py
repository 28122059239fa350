"""Backup → restore round trip on the test's database server (run the file with each
TEST_DATABASE_URL): every table's row count and every upload's checksum come back;
a non-empty target is refused unless --force; a damaged archive is refused."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.attachments.models import Attachment
from helpdesk.attachments.services import Upload
from helpdesk.chat import services as chat
from helpdesk.demo import seed
from helpdesk.desk import services as desk
from helpdesk.extensions import db
from helpdesk.ops.backup import table_counts, upload_checksums
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.users import services as users
from helpdesk.users.models import User
from tests.cli.test_cli import invoke
from tests.conftest import PASSWORD, make_app
from tests.conftest import TestDatabase as Database
from tests.first_hour.test_ready_on_first_start import png


def _app(database: Database, folder: Path):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    return make_app(database, folder, UPLOAD_DIR=str(folder / "uploads"))


def _close(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _state(app) -> tuple[dict[str, int], dict[str, str]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        with db.engine.connect() as conn:
            counts = table_counts(conn)
        return counts, upload_checksums(Path(app.config["UPLOAD_DIR"]))


@pytest.fixture
def seeded(database, tmp_path):  # type: ignore[no-untyped-def]
    """A migrated desk with tickets, comments, chat, branding and two attachments."""
    app = _app(database, tmp_path / "a")
    assert invoke(app, "init-db").exit_code == 0
    with app.app_context():
        seed(n_tickets=120, n_users=6, n_techs=2, comments_per_ticket=2)
        alice = users.create_user(None, username="alicia", password=PASSWORD, role="user")
        boss = users.find_by_username("admin")
        tech = db.session.scalar(select(User).where(User.role == "technician"))
        category = tickets.list_categories()[0]
        ticket = tickets.create_ticket(
            alice,
            title="Pantalla rota 😀",
            description="Adjunto foto",
            category_id=category.id,
            uploads=[Upload("foto.png", io.BytesIO(png(4, 4)))],
        )
        tickets.add_comment(
            alice, ticket, "Otra", uploads=[Upload("log.txt", io.BytesIO(b"E42\n"))]
        )
        conv = chat.start_conversation(alice, tech)
        chat.send_message(alice, conv, "¿Hay novedades?", notify=False)
        desk.update_branding(boss, name="Mesa ACME", color="#14532d", logo=png(3, 3))
        db.session.commit()
    yield app
    _close(app)


def test_backup_and_restore_round_trip(seeded, tmp_path):
    source_counts, source_files = _state(seeded)
    assert source_counts["tickets"] == 121 and source_counts["attachments"] == 2
    assert len(source_files) == 3  # two attachments and the logo

    result = invoke(seeded, "backup", "--to", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.output
    archive = next((tmp_path / "backups").glob("helpdesk-backup-*.tar.gz"))
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
        settings = json.load(tar.extractfile("settings.json"))
    assert "database/tables/tickets.jsonl" in names and "uploads" in names
    assert manifest["tables"]["tickets"] == 121
    assert set(manifest["files"]) >= {"settings.json", "database/tables/users.jsonl"}
    # The database's own copy beside the portable dump (or why there is none).
    assert manifest["native"] or manifest["native_error"]
    if manifest["dialect"] == "sqlite":
        assert manifest["native"] == "sqlite-backup-api"
        assert "database/helpdesk.sqlite3" in names
    assert "SECRET_KEY" not in settings and "test-secret-key" not in json.dumps(settings)

    target_db = Database(tmp_path / "b")
    target = _app(target_db, tmp_path / "b")
    try:
        result = invoke(target, "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert _state(target) == (source_counts, source_files)
        with target.app_context():
            ticket = db.session.scalar(select(Ticket).where(Ticket.title == "Pantalla rota 😀"))
            assert ticket is not None
            stored = db.session.scalars(
                select(Attachment.original_name).where(Attachment.ticket_id == ticket.id)
            ).all()
            assert sorted(stored) == ["foto.png", "log.txt"]
            assert desk.branding().name == "Mesa ACME"
        client = target.test_client()
        assert client.login("alicia").status_code == 302  # the password hash came back
        assert "Pantalla rota 😀" in client.get("/tickets").get_data(as_text=True)
        # New rows get fresh ids after the restored ones (sequences moved on).
        with target.app_context():
            alicia = users.find_by_username("alicia")
            made = tickets.create_ticket(
                alicia, title="After", description="x", category_id=ticket.category_id
            )
            db.session.commit()
            assert made.id > ticket.id

        again = invoke(target, "restore", str(archive))
        assert again.exit_code != 0 and "add --force" in again.output
        forced = invoke(target, "restore", "--force", str(archive))
        assert forced.exit_code == 0, forced.output
        assert _state(target) == (source_counts, source_files)
    finally:
        _close(target)
        target_db.drop()


def test_a_damaged_archive_is_refused_before_anything_changes(seeded, tmp_path):
    invoke(seeded, "backup", "--to", str(tmp_path / "backups"))
    archive = next((tmp_path / "backups").glob("helpdesk-backup-*.tar.gz"))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name == "database/tables/tickets.jsonl":
                data = data.replace(b"Pantalla rota", b"Pantalla sana")
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    target_db = Database(tmp_path / "c")
    target = _app(target_db, tmp_path / "c")
    try:
        result = invoke(target, "restore", str(damaged))
        assert result.exit_code != 0
        assert "database/tables/tickets.jsonl in the backup is missing or damaged" in result.output
        not_an_archive = tmp_path / "x.tar.gz"
        not_an_archive.write_bytes(b"hello")
        result = invoke(target, "restore", str(not_an_archive))
        assert result.exit_code != 0 and "not a readable Helpdesk backup" in result.output
        with target.app_context():
            from sqlalchemy import inspect

            assert "tickets" not in inspect(db.engine).get_table_names()
    finally:
        _close(target)
        target_db.drop()
