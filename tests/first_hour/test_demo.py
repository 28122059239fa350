"""`helpdesk demo`: its own lived-in database; the real desk's data is never touched."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from helpdesk.cli import main
from helpdesk.security.passwords import verify_password


def digest(path) -> str:  # type: ignore[no-untyped-def]
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_builds_its_own_desk_and_leaves_the_real_one_alone(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    real_db = real / "helpdesk.db"
    env = {
        "DATABASE_URL": f"sqlite:///{real_db}",
        "HELPDESK_INSTANCE_DIR": str(real),
        "UPLOAD_DIR": str(real / "uploads"),
        "JOBS_SQLITE_PATH": str(real / "jobs.db"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"]).exit_code == 0
    before = digest(real_db)
    saved = dict(os.environ)
    try:
        result = runner.invoke(main, ["demo", "--no-serve", "--tickets", "400"])
    finally:  # the command points this process at the demo; undo it for the next tests
        os.environ.clear()
        os.environ.update(saved)
    assert result.exit_code == 0, result.output
    assert "password for all: demo-password-1" in result.output
    for line in ("admin       admin", "technician  tech00001", "user        user00001"):
        assert line in result.output
    assert digest(real_db) == before
    demo_db = real / "demo" / "helpdesk.db"
    engine = create_engine(f"sqlite:///{demo_db}")
    with engine.connect() as conn:

        def count(sql: str) -> int:
            return int(conn.scalar(text(sql)))

        assert count("SELECT COUNT(*) FROM tickets") == 400
        assert count("SELECT COUNT(*) FROM comments") > 400
        assert count("SELECT COUNT(*) FROM messages") > 20
        assert count("SELECT COUNT(*) FROM notifications WHERE read_at IS NULL") > 0
        first, last = conn.execute(
            text("SELECT MIN(created_at), MAX(created_at) FROM tickets")
        ).one()
        days = datetime.fromisoformat(str(last)) - datetime.fromisoformat(str(first))
        assert days.days > 365  # two years of history
        titles = [r[0] for r in conn.execute(text("SELECT title FROM tickets"))]
        assert any("impresora" in t for t in titles) and any("Cannot" in t for t in titles)
        for role, username in (
            ("admin", "admin"),
            ("technician", "tech00001"),
            ("user", "user00001"),
        ):
            row = conn.execute(
                text(
                    "SELECT role, password_hash, must_change_password FROM users WHERE username = :u"
                ),
                {"u": username},
            ).one()
            assert row[0] == role and verify_password(row[1], "demo-password-1") and not row[2]
    engine.dispose()

    # A second start reuses it; --reset builds anew.
    saved = dict(os.environ)
    try:
        again = runner.invoke(main, ["demo", "--no-serve"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert again.exit_code == 0 and "Building" not in again.output
    assert digest(real_db) == before
