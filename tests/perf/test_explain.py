"""The default views' real queries use indexes on every database: no full scans of tickets.

The statements are captured while the services run (the SQL the pages send),
then EXPLAINed on a few thousand demo tickets with fresh statistics.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk import demo
from helpdesk.extensions import db
from helpdesk.tickets import queries, services
from helpdesk.tickets.models import Ticket
from helpdesk.users.models import Role, User
from tests.perf.conftest import count_queries

# ticket_counts is not here on purpose: a few hundred rows at most, read whole.
BIG_TABLES = {"tickets", "comments", "ticket_events"}


def _plan_problems(statement: str, parameters: Any, allow_sort: bool = False) -> list[str]:
    """Lines of the plan that read a big table without an index ([] when fine)."""
    conn = db.session.connection()
    dialect = conn.dialect.name
    if dialect == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        details = [r[-1] for r in rows]
        problems = []
        sorted_all = any("TEMP B-TREE FOR ORDER BY" in d for d in details)
        if "LIMIT" in statement and sorted_all and not allow_sort:
            # a page that sorts every matching row before taking 25 of them
            problems.append("sorts all matches for one page")
        for detail in details:
            m = re.match(r"SCAN (\w+)(?: AS \w+)?$", detail)
            if m and m.group(1) in BIG_TABLES:
                # A bare SCAN of tickets is fine only as the primary-key walk of an
                # ORDER BY id ... LIMIT (no temporary sort): it stops after one page.
                ordered = "ORDER BY" in statement and "LIMIT" in statement
                if (
                    m.group(1) != "tickets"
                    or not ordered
                    or any("TEMP B-TREE FOR ORDER BY" in d for d in details)
                ):
                    problems.append(detail)
        return problems
    if dialect == "postgresql":
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
        plan = raw if isinstance(raw, list) else json.loads(raw)
        problems = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
                problems.append(f"Seq Scan on {node['Relation Name']}")
            for child in node.get("Plans", []):
                walk(child)

        walk(plan[0]["Plan"])
        return problems
    rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all()
    problems = [
        f"full scan of {r['table']}"
        for r in rows
        if r["table"] in BIG_TABLES and (r["type"] or "").upper() == "ALL"
    ]
    if "LIMIT" in statement and not allow_sort:
        # a page that sorts every matching row (e.g. driven from a small joined table)
        problems += [f"filesort on {r['table']}" for r in rows if "filesort" in (r["Extra"] or "")]
    return problems


def _check(what: str, call, allow_sort: bool = False) -> None:  # type: ignore[no-untyped-def]
    with count_queries() as log:
        call()
    assert log.statements, what
    for statement, parameters in log.statements:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        problems = _plan_problems(statement, parameters, allow_sort)
        assert not problems, f"{what}: {problems}\n{statement}"


@pytest.fixture
def seeded(app):  # type: ignore[no-untyped-def]
    demo.seed(n_tickets=4000, n_users=200, n_techs=10, comments_per_ticket=2)
    db.session.remove()


def _first(role: Role) -> User:
    return db.session.scalars(select(User).where(User.role == role).order_by(User.id)).first()


def test_the_check_sees_a_full_scan(seeded):
    """The detector itself: a LIKE '%...%' over all tickets must be reported."""
    assert _plan_problems("SELECT id FROM tickets WHERE title LIKE '%%VPN%%'", ())


def test_default_views_use_indexes(seeded, make_user):
    admin = make_user("admin", "explain-admin")
    tech, user = _first(Role.TECHNICIAN), _first(Role.USER)
    middle = db.session.scalar(select(Ticket.id).order_by(Ticket.id).offset(2000).limit(1))
    deep_cursor = queries._encode_cursor([middle])
    filters = services.parse_filters
    for actor in (admin, tech, user):
        name = actor.role.value
        _check(f"{name} default list", lambda a=actor: services.list_tickets(a, filters({})))
        _check(
            f"{name} deep page",
            lambda a=actor: services.list_tickets(a, filters({}), cursor=deep_cursor),
        )
        _check(
            f"{name} filtered list",
            lambda a=actor: services.list_tickets(a, filters({"status": "open"})),
        )
        _check(
            f"{name} search",
            lambda a=actor: services.list_tickets(a, filters({"q": "impresora"})),
            # Known limit: InnoDB FULLTEXT hands back every match unordered, so
            # MySQL/MariaDB sort them (see bench/README.md).
            allow_sort=db.engine.dialect.name in ("mysql", "mariadb"),
        )
        _check(f"{name} dashboard counts", lambda a=actor: services.status_counts(a))
        _check(
            f"{name} dashboard recent",
            lambda a=actor: services.list_tickets(a, filters({"sort": "updated"}), limit=10),
            # a user's own tickets (a few hundred at most) may be sorted
            allow_sort=actor is user,
        )
    ticket = db.session.scalar(select(Ticket).where(Ticket.requester_id == user.id).limit(1))
    _check("ticket page", lambda: services.timeline(user, services.get_ticket(user, ticket.id)))
    _check("ticket by number", lambda: services.get_ticket_by_number(admin, ticket.number))


def test_overdue_near_the_limits_reads_only_an_index(seeded, make_user):
    """The overdue card counts the open tickets of each priority's limit day from the
    tickets themselves (thousands a day at a million): no table rows, for admin and
    technician alike."""
    from helpdesk.reports.services import overdue_count

    admin = make_user("admin", "explain-admin")
    dialect = db.engine.dialect.name
    for actor in (admin, _first(Role.TECHNICIAN)):
        with count_queries() as log:
            overdue_count(actor)
        partial = [(s, p) for s, p in log.statements if "CASE" in s and "GROUP BY" not in s]
        assert len(partial) == 1, log.statements
        statement, parameters = partial[0]
        assert not _plan_problems(statement, parameters)
        conn = db.session.connection()
        if dialect == "sqlite":
            plan = " ".join(
                r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "COVERING INDEX ix_tickets_created_at_cover" in plan, plan
        elif dialect in ("mysql", "mariadb"):
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all()
            assert any("Using index" in (r["Extra"] or "") for r in rows), rows
