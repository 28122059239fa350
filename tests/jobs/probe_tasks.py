"""Tasks the queue tests enqueue; the worker imports this module with `--import`.

Their table lives in a MetaData of its own, so the app's models (and the migration
checks) never see it; each test creates it in its own database.
"""

from __future__ import annotations

import os

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from helpdesk.extensions import db
from helpdesk.jobs import task

metadata = MetaData()
effects = Table(
    "test_job_effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("pid", Integer, nullable=False),
)


def create_table() -> None:
    metadata.create_all(db.engine)


def rows(token: str, kind: str | None = None) -> list[tuple[str, str, int]]:
    query = select(effects.c.token, effects.c.kind, effects.c.pid).where(effects.c.token == token)
    if kind is not None:
        query = query.where(effects.c.kind == kind)
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query.order_by(effects.c.id))]  # type: ignore[misc]


def _note(token: str, kind: str) -> None:
    """A row written outside the task's transaction (it survives the task's rollback)."""
    with db.engine.begin() as conn:
        conn.execute(insert(effects).values(token=token, kind=kind, pid=os.getpid()))


@task()
def record(token: str) -> None:
    """Idempotent: a second delivery of the same token changes nothing."""
    done = db.session.execute(
        select(effects.c.id).where(effects.c.token == token, effects.c.kind == "done")
    ).first()
    if done is None:
        db.session.execute(insert(effects).values(token=token, kind="done", pid=os.getpid()))


@task(retries=2, retry_delay=0.2)
def always_fails(token: str) -> None:
    _note(token, "try")
    db.session.execute(insert(effects).values(token=token, kind="kept", pid=os.getpid()))
    raise RuntimeError(f"probe failure {token}")
