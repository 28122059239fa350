"""The reports page: the list's filters plus a date range, summary tables per dimension."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from helpdesk.reports import services as reports
from helpdesk.reports.exports import pdf as pdf_export
from helpdesk.reports.exports import xlsx as xlsx_export
from tests.reports.conftest import visible


def table_counts(html: str, caption: str) -> dict[str, int]:
    """{row label: ticket count} from the summary table with this caption."""
    section = html.split(f'<caption class="visually-hidden">{caption}</caption>', 1)[1]
    section = section.split("</table>", 1)[0]
    rows = re.findall(
        r'<th scope="row" class="fw-normal">(.*?)</th>\s*<td class="num">(\d+)</td>', section
    )
    return {label: int(n) for label, n in rows}


def test_admin_summary_tables(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    html = client.get("/reports?created_from=").get_data(as_text=True)  # all time
    assert f"{len(rows)} ticket" in html  # "1 ticket", "3 tickets"
    assert table_counts(html, "By category") == {
        "Hardware": sum(1 for r in rows if r.category_id == rows[0].category_id),
        "Red": sum(1 for r in rows if r.category_id != rows[0].category_id),
    }
    by_priority = Counter(r.priority.title() for r in rows)
    assert table_counts(html, "By priority") == dict(by_priority)
    technicians = table_counts(html, "By technician")
    names = {p.id: p.display_name for p in people.values()}
    expected = Counter(names[r.assignee_id] if r.assignee_id else "Unassigned" for r in rows)
    assert technicians == dict(expected)
    assert 'href="/reports/export.pdf' in html


def test_user_summary_only_own_and_no_technician_table(client, scenario):
    now, rows, people = scenario
    alice = people["user"]
    client.login("alice")
    html = client.get("/reports?created_from=&created_to=").get_data(as_text=True)  # all time
    own = [r for r in rows if visible("user", alice.id, r)]
    assert f"{len(own)} ticket" in html  # "1 ticket", "3 tickets"
    assert sum(table_counts(html, "By status").values()) == len(own)
    assert "By technician" not in html


def test_page_opens_on_the_last_30_days(client, scenario):
    """No date in the address: the last 30 UTC days (today included), shown in the
    form and carried into the export links; the scenario has older tickets."""
    now, rows, people = scenario
    client.login("boss")
    first = (now - timedelta(days=29)).date()
    recent = [r for r in rows if r.created_at.date() >= first]
    assert 0 < len(recent) < len(rows)
    html = client.get("/reports").get_data(as_text=True)
    assert f"{len(recent)} ticket" in html
    assert f'value="{first.isoformat()}"' in html
    assert f"export.csv?created_from={first.isoformat()}" in html


def test_filters_and_date_range_flow_into_summary_and_exports(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    day = now.date().isoformat()
    html = client.get(f"/reports?priority=high&created_from={day}").get_data(as_text=True)
    expected = [r for r in rows if r.priority == "high" and r.created_at.date() >= now.date()]
    assert f"{len(expected)} ticket" in html  # "1 ticket", "3 tickets"
    assert f"export.csv?priority=high&amp;created_from={day}" in html


def test_average_times_per_category(app, scenario):
    now, rows, people = scenario
    from helpdesk.tickets.services import TicketFilters

    summary = reports.summary_by_category(people["admin"], TicketFilters())
    for item in summary:
        firsts = [
            (r.first_response_at - r.created_at).total_seconds()
            for r in rows
            if r.category_id == item.key and r.first_response_at
        ]
        assert abs(item.avg_first_response - sum(firsts) / len(firsts)) < 2
        opened = sum(
            1
            for r in rows
            if r.category_id == item.key and r.status in ("open", "in_progress", "waiting")
        )
        assert item.open == opened


def test_pdf_button_disabled_beyond_limit(client, scenario, monkeypatch):
    monkeypatch.setattr(pdf_export, "PDF_ROW_LIMIT", 2)
    client.login("boss")
    html = client.get("/reports").get_data(as_text=True)
    assert 'id="export-pdf" disabled' in html
    assert "PDF reports are limited to 2 tickets" in html
    assert 'id="xlsx-hint"' not in html
    monkeypatch.setattr(xlsx_export, "XLSX_SLOW_ROWS", 2)
    assert 'id="xlsx-hint"' in client.get("/reports").get_data(as_text=True)


def test_bad_range_is_reported(client, scenario):
    client.login("boss")
    resp = client.get("/reports?created_from=2026-02-01&created_to=2026-01-01")
    assert resp.status_code == 200
    assert "The end of the range must come after its start." in resp.get_data(as_text=True)
