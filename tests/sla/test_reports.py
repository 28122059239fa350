"""Compliance in the reports (by priority, category, technician) and in the exports,
against a recount in Python; a user's report holds only their own tickets."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.reports import services as reports
from helpdesk.reports.exports.rows import EXPORT_COLUMNS
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_view_ticket
from helpdesk.tickets.services import TicketFilters
from tests.sla.conftest import madrid
from tests.sla.test_figures import NOW, _desk


def _pct(values):  # type: ignore[no-untyped-def]
    decided = [v for v in values if v is not None]
    return None if not decided else round(100 * sum(decided) / len(decided), 1)


def test_compliance_by_priority_category_and_technician(people, office, make_ticket, at):
    _desk(people, make_ticket, at)
    with at(NOW):
        for who in ("admin", "tech", "user"):
            actor = people[who]
            mine = [t for t in db.session.scalars(select(Ticket)) if can_view_ticket(actor, t)]
            summary = reports.report_summary(actor, TicketFilters())
            groups = {
                "priority": lambda t: t.priority,
                "category": lambda t: t.category_id,
                "technician": lambda t: t.assignee_id,
            }
            for table, key in groups.items():
                if table == "technician" and who == "user":
                    continue
                for row in summary[table]:
                    tickets = [t for t in mine if key(t) == row.key]
                    assert row.first_response_met == _pct([t.sla_response_met for t in tickets])
                    assert row.resolution_met == _pct([t.sla_resolution_met for t in tickets])
            assert summary["total"] == len(mine)


def test_the_csv_export_carries_the_targets(client, people, office, make_ticket, at):
    with at(madrid(2026, 11, 16, 9)):
        t = make_ticket(people["user"], priority="urgent")
    with at(madrid(2026, 11, 16, 11)):
        from helpdesk.tickets import services as tickets

        tickets.add_comment(people["admin"], t, "late")
        db.session.commit()
    client.login("boss")
    body = client.get("/reports/export.csv?created_from=2026-01-01").get_data(as_text=True)
    # Columns by key (the headers follow the reader's profile language).
    keys = [c.key for c in EXPORT_COLUMNS]
    rows = [dict(zip(keys, r)) for r in csv.reader(io.StringIO(body.lstrip("\ufeff")))][1:]
    row = next(r for r in rows if r["number"] == t.number)
    assert row["first_response_target"] in ("Missed", "Incumplido")
    assert row["first_response_due"].startswith("2026-11-16 09:00")
    assert row["resolution_target"] == ""
