"""Fixtures shared by the security matrices."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from tests.conftest import make_app


@pytest.fixture
def limited_app(database, tmp_path):  # type: ignore[no-untyped-def]
    """An app with the rate limits on (the other fixtures turn them off)."""
    app = make_app(database, tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
