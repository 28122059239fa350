"""Migrations: from an empty database to head on every backend, and the result
matches the models exactly (a model change without its migration fails here)."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from helpdesk.cli import schema_differences
from helpdesk.extensions import db
from tests.conftest import backend, make_app


@pytest.fixture
def fresh_app(database, tmp_path):
    app = make_app(database, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _script(app) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def test_one_linear_chain_of_revisions(fresh_app):
    script = _script(fresh_app)
    assert len(script.get_heads()) == 1, "migrations branch: re-point down_revision to main's head"
    assert len(script.get_bases()) == 1


def test_upgrade_from_empty_to_head_matches_the_models(fresh_app):
    assert inspect(db.engine).get_table_names() == []
    upgrade()
    current, head, diffs = schema_differences()
    assert current == head
    assert diffs == [], "models and migrations differ:\n" + "\n".join(map(str, diffs))
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


@pytest.mark.skipif(backend() != "mysql", reason="MySQL/MariaDB table options")
def test_mysql_tables_are_utf8mb4_innodb(fresh_app):
    upgrade()
    rows = db.session.execute(
        text(
            "SELECT table_name, engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name != 'alembic_version'"
        )
    ).all()
    assert rows
    for name, engine, collation in rows:
        assert engine == "InnoDB", name
        assert collation.startswith("utf8mb4"), (name, collation)


def test_downgrade_to_base_and_back(fresh_app):
    """Every revision can be undone, so a bad release can be rolled back."""
    upgrade()
    downgrade(revision="base")
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    upgrade()
    current, head, diffs = schema_differences()
    assert current == head and diffs == []
