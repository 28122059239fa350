"""unit_of_work commits once on success and rolls back (dropping side effects) on error."""

from __future__ import annotations

import pytest

from helpdesk.db import after_commit
from helpdesk.extensions import db
from helpdesk.tickets.models import Category
from helpdesk.transaction import unit_of_work


def test_commits_and_runs_after_commit(app):
    ran: list[str] = []
    with unit_of_work():
        db.session.add(Category(name="Kept", description=""))
        db.session.flush()
        after_commit(db.session, lambda: ran.append("emitted"))
    db.session.expunge_all()
    assert db.session.query(Category).filter_by(name="Kept").count() == 1
    assert ran == ["emitted"]


def test_rolls_back_and_drops_side_effects(app):
    ran: list[str] = []
    with pytest.raises(RuntimeError), unit_of_work():
        db.session.add(Category(name="Lost", description=""))
        db.session.flush()
        after_commit(db.session, lambda: ran.append("emitted"))
        raise RuntimeError("boom")
    assert db.session.query(Category).filter_by(name="Lost").count() == 0
    assert ran == []
