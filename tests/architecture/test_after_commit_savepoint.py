"""After-commit work waits for the real commit, not a savepoint's release."""

from __future__ import annotations

from sqlalchemy import text

from helpdesk.db import after_commit
from helpdesk.extensions import db


def test_releasing_a_savepoint_runs_no_after_commit_callback(app):  # type: ignore[no-untyped-def]
    ran: list[str] = []
    db.session.execute(text("SELECT 1"))
    after_commit(db.session, lambda: ran.append("done"))
    with db.session.begin_nested():
        db.session.execute(text("SELECT 1"))
    assert ran == []
    db.session.commit()
    assert ran == ["done"]
