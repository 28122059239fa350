"""Excel export jobs: started by POST, built by the export task, watched through the
page and its JSON, downloaded and parsed back; only the owner sees a job.

Most tests run the job in this process (`jobs.run_job`, what the task calls) so each
step can be looked at; `test_worker_*` start a real `helpdesk worker` and wait for it.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select, update

from helpdesk.audit.models import AuditLog
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.reports import jobs
from helpdesk.reports import services as reports
from helpdesk.reports.exports import rows as export_rows
from helpdesk.reports.exports import xlsx as xlsx_export
from helpdesk.reports.models import ExportJob, ExportStatus
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket
from tests.conftest import make_app, wait_for
from tests.realtime.cluster import free_port
from tests.reports.conftest import served_app, visible
from tests.reports.test_exports import PAYLOADS, UNICODE_TITLE, expected_numbers

JOB_URL = re.compile(r"/reports/jobs/([0-9a-f]{32})$")


def start(client, **form):  # type: ignore[no-untyped-def]
    """POST the reports page's Excel form; returns the job id it redirected to."""
    resp = client.post("/reports/export.xlsx/jobs", data=form)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    match = JOB_URL.search(resp.headers["Location"])
    assert match, resp.headers["Location"]
    return match.group(1)


def state(client, job_id):  # type: ignore[no-untyped-def]
    resp = client.get(f"/reports/jobs/{job_id}.json")
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.get_json()


def run(job_id):  # type: ignore[no-untyped-def]
    assert jobs.run_job(job_id) is True
    db.session.expire_all()


def download(client, job_id):  # type: ignore[no-untyped-def]
    resp = client.get(f"/reports/jobs/{job_id}/download")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp


def sheet_of(resp):  # type: ignore[no-untyped-def]
    return openpyxl.load_workbook(io.BytesIO(resp.get_data())).active


def leftovers(app):  # type: ignore[no-untyped-def]
    """What the jobs left in EXPORT_DIR besides finished files."""
    folder = app.config["EXPORT_DIR"]
    return sorted(n for n in os.listdir(folder) if not n.endswith(".xlsx"))


# ---------------------------------------------------------------- the whole way


@pytest.mark.parametrize("username", ["boss", "tech", "alice"])
def test_job_from_post_to_download_matches_the_filtered_list(client, scenario, username):
    now, rows, people = scenario
    user = next(u for u in people.values() if u.username == username)
    client.login(username)
    job_id = start(client)

    page = client.get(f"/reports/jobs/{job_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'role="progressbar"' in html and 'aria-valuenow="0"' in html
    assert "js/export-job.js" in html and "Waiting to start" in html
    assert state(client, job_id)["status"] == "queued"

    run(job_id)
    done = state(client, job_id)
    expected = expected_numbers(user.role.value, user, rows)
    assert done["status"] == "done"
    assert done["rows_done"] == done["rows_total"] == len(expected)
    assert done["percent"] == 100
    assert done["download_url"] == f"/reports/jobs/{job_id}/download"

    resp = download(client, job_id)
    assert resp.mimetype == reports_mimetype()
    disposition = resp.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="tickets_\d{4}-\d\d-\d\d_\d{4}\.xlsx"', disposition)
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert int(resp.headers["Content-Length"]) == len(resp.get_data())
    sheet = sheet_of(resp)
    header = [c.value for c in sheet[1]]
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in body] == expected
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    col = {name: i for i, name in enumerate(header)}
    by_number = {r.number: r for r in rows}
    for values in body:
        r = by_number[values[0]]
        assert values[col["Title"]] == r.title
        created = values[col["Created (UTC)"]]
        assert isinstance(created, datetime)
        assert created.replace(second=0) == r.created_at.replace(second=0, tzinfo=None)
        hours = values[col["First response (hours)"]]
        if r.first_response_at:
            assert isinstance(hours, (int, float)) and not isinstance(hours, bool)
            expected_hours = (r.first_response_at - r.created_at).total_seconds() / 3600
            assert hours == pytest.approx(expected_hours, abs=0.01)
        else:
            assert hours is None
    html = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert 'aria-valuenow="100"' in html and f"/reports/jobs/{job_id}/download" in html
    assert leftovers(client.application) == []


def reports_mimetype() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_job_takes_the_filters_of_the_form(client, scenario):
    now, rows, people = scenario
    client.login("boss")
    job_id = start(client, status=["open", "waiting"], priority=["urgent", "low"])
    run(job_id)
    numbers = [
        r[0] for r in sheet_of(download(client, job_id)).iter_rows(min_row=2, values_only=True)
    ]
    assert numbers == expected_numbers(
        "admin", people["admin"], rows, status=("open", "waiting"), priority=("urgent", "low")
    )
    assert numbers
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert "Status: Open, Waiting" in page  # the filters are shown on the job page


def test_formula_payloads_and_unicode_in_the_job_file(client, app, people, make_ticket):
    for payload in PAYLOADS:
        ticket = make_ticket(people["user"], title="placeholder")
        db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(title=payload))
    make_ticket(people["user"], title=UNICODE_TITLE)
    db.session.commit()
    client.login("alice")
    job_id = start(client)
    run(job_id)
    sheet = sheet_of(download(client, job_id))
    for row_no, payload in enumerate(PAYLOADS, start=2):
        cell = sheet.cell(row=row_no, column=2)
        assert cell.data_type == "s"  # text, never a formula
        assert cell.value in ("'" + payload, "'" + payload.replace("\r", "_x000D_"))
    assert sheet.cell(row=len(PAYLOADS) + 2, column=2).value == UNICODE_TITLE


def test_a_requesters_job_excludes_foreign_tickets_and_internal_notes(client, scenario):
    now, rows, people = scenario
    alice, tech = people["user"], people["tech"]
    mine = next(r for r in rows if r.requester_id == alice.id and r.assignee_id == tech.id)
    tickets.add_comment(tech, tickets.get_ticket(tech, mine.id), "SECRETO interno", internal=True)
    db.session.commit()
    client.login("alice")
    # filters naming someone else cannot widen the set either
    job_id = start(client, requester_id=str(people["user2"].id))
    other = start(client)
    run(job_id)
    run(other)
    assert state(client, job_id)["rows_done"] == 0
    values = [
        str(v) for row in sheet_of(download(client, other)).iter_rows(values_only=True) for v in row
    ]
    assert {r.number for r in rows if r.requester_id == alice.id} <= set(values)
    for r in rows:
        if not visible("user", alice.id, r):
            assert r.number not in values
    assert not any("SECRETO" in v for v in values)


def test_permissions_are_checked_again_when_the_job_runs(client, scenario):
    now, rows, people = scenario
    tech, tech2, admin = people["tech"], people["tech2"], people["admin"]
    client.login("tech")
    job_id = start(client)
    # before the runner gets to it, one of tech's tickets goes to tech2
    moved = next(r for r in rows if r.assignee_id == tech.id and r.requester_id != tech.id)
    tickets.assign_ticket(admin, tickets.get_ticket(admin, moved.id), tech2.id)
    db.session.commit()
    run(job_id)
    numbers = [
        r[0] for r in sheet_of(download(client, job_id)).iter_rows(min_row=2, values_only=True)
    ]
    assert moved.number not in numbers
    assert len(numbers) == state(client, job_id)["rows_done"]

    # an owner deactivated meanwhile gets nothing
    second = start(client, priority="high")
    tech.active = False
    db.session.commit()
    run(second)
    row = db.session.get(ExportJob, second)
    assert row.status == ExportStatus.FAILED
    assert row.error == "You cannot export tickets."
    assert not os.path.exists(
        os.path.join(client.application.config["EXPORT_DIR"], f"{second}.xlsx")
    )


# ---------------------------------------------------------------- who may see a job


def test_only_the_owner_sees_a_job(app, scenario):
    now, rows, people = scenario
    owner = app.test_client()
    owner.login("alice")
    job_id = start(owner)
    run(job_id)
    for username in ("bob", "boss", "tech"):  # another user, even an administrator: 404
        other = app.test_client()
        other.login(username)
        for url in (f"/reports/jobs/{job_id}", f"/reports/jobs/{job_id}.json"):
            assert other.get(url).status_code == 404, (username, url)
        resp = other.get(f"/reports/jobs/{job_id}/download")
        assert resp.status_code == 404
        assert resp.mimetype != reports_mimetype()
    anonymous = app.test_client()
    assert "/login" in anonymous.get(f"/reports/jobs/{job_id}").headers["Location"]
    assert (
        anonymous.get(
            f"/reports/jobs/{job_id}.json", headers={"Accept": "application/json"}
        ).status_code
        == 401
    )
    assert "/login" in anonymous.get(f"/reports/jobs/{job_id}/download").headers["Location"]
    # ids that are not job ids, or unknown ones, are the same 404
    for bogus in ("nope", "0" * 32, job_id.upper(), job_id[:-1]):
        assert owner.get(f"/reports/jobs/{bogus}.json").status_code == 404


def test_starting_a_job_needs_csrf_and_sign_in(app, client, scenario):
    anonymous = app.test_client()
    resp = anonymous.post("/reports/export.xlsx/jobs", data={})
    assert "/login" in resp.headers["Location"]
    client.login("boss")
    assert client.post("/reports/export.xlsx/jobs", data={}, csrf=False).status_code == 400
    forged = client.post("/reports/export.xlsx/jobs", data={"csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400
    assert db.session.scalar(select(ExportJob.id)) is None
    assert client.get("/reports/export.xlsx/jobs").status_code == 405  # never started by a link


def test_starting_a_job_is_audited(client, scenario):
    client.login("tech")
    job_id = start(client, status="open")
    db.session.expire_all()
    entries = list(db.session.scalars(select(AuditLog).where(AuditLog.action == "report.export")))
    assert len(entries) == 1
    detail = json.loads(entries[0].detail)
    assert detail == {"format": "xlsx", "filters": {"status": ["open"]}, "job": job_id}
    assert entries[0].actor.username == "tech"


# ---------------------------------------------------------------- progress and failures


def test_progress_is_written_every_batch(client, scenario, monkeypatch):
    now, rows, people = scenario
    monkeypatch.setattr(export_rows, "EXPORT_BATCH", 2)
    seen: list[dict] = []
    original = jobs._progress

    def spy(engine, job_id, **values):  # type: ignore[no-untyped-def]
        original(engine, job_id, **values)
        with engine.connect() as conn:  # what a page would read now, from another connection
            row = conn.execute(
                select(ExportJob.status, ExportJob.rows_done, ExportJob.rows_total).where(
                    ExportJob.id == job_id
                )
            ).one()
        seen.append({"status": row[0], "done": row[1], "total": row[2]})

    monkeypatch.setattr(jobs, "_progress", spy)
    client.login("boss")
    job_id = start(client)
    run(job_id)
    assert seen[0] == {"status": ExportStatus.RUNNING, "done": 0, "total": len(rows)}
    assert [s["done"] for s in seen[1:]] == [2, 4, 6, len(rows)]
    assert all(s["status"] == ExportStatus.RUNNING for s in seen)


def test_progress_text_and_percent(client, app, people):
    client.login("alice")
    job_id = start(client)
    cases = [
        (ExportStatus.RUNNING, None, 0, 0, "Counting the tickets"),
        (ExportStatus.RUNNING, 10_000, 4_000, 40, "4,000 of 10,000 rows written"),
        (ExportStatus.RUNNING, 10_000, 10_000, 99, "All rows written; packing the file"),
        (ExportStatus.RUNNING, 0, 0, 0, "All rows written; packing the file"),
    ]
    for status, total, done, percent, text in cases:
        db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(status=status, rows_total=total, rows_done=done, heartbeat_at=utcnow())
        )
        db.session.commit()
        got = state(client, job_id)
        assert (got["percent"], got["download_url"]) == (percent, None), text
        assert text in got["message"]
        assert got["percent_text"] == f"{percent}%"
    assert client.get(f"/reports/jobs/{job_id}/download").status_code == 409  # not ready


def test_a_failed_job_shows_its_error(client, scenario, monkeypatch):
    monkeypatch.setattr(jobs, "XLSX_MAX_ROWS", 3)
    client.login("boss")
    job_id = start(client)
    run(job_id)
    got = state(client, job_id)
    assert got["status"] == "failed"
    assert "an Excel sheet holds at most 3 rows" in got["error"]
    html = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert "an Excel sheet holds at most 3 rows" in html
    assert 'id="job-error" class="alert alert-danger"' in html  # shown, not d-none
    assert client.get(f"/reports/jobs/{job_id}/download").status_code == 409
    assert leftovers(client.application) == []


def test_an_unexpected_error_is_reported_plainly_and_leaves_no_file(client, scenario, monkeypatch):
    rows_seen = []

    def broken_rows(actor, filters):  # type: ignore[no-untyped-def]
        for n, row in enumerate(real_rows(actor, filters)):
            rows_seen.append(row)
            if n == 3:
                raise RuntimeError("disk on fire /secret/path")
            yield row

    real_rows = reports.iter_export_rows
    monkeypatch.setattr(export_rows, "iter_export_rows", broken_rows)
    client.login("boss")
    job_id = start(client)
    run(job_id)
    got = state(client, job_id)
    assert got["status"] == "failed"
    assert got["error"].startswith("The export failed. Please try again")
    assert "secret" not in json.dumps(got)
    assert len(rows_seen) == 4
    folder = client.application.config["EXPORT_DIR"]
    assert os.listdir(folder) == []  # no partial workbook, no scratch folder


def test_a_job_whose_runner_died_is_failed_on_read(client, scenario):
    client.login("boss")
    job_id = start(client)
    # a runner claimed it, then vanished: no heartbeat for longer than STALE_AFTER
    old = utcnow() - jobs.STALE_AFTER - timedelta(seconds=5)
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(status=ExportStatus.RUNNING, rows_total=7, rows_done=2, heartbeat_at=old)
    )
    db.session.commit()
    got = state(client, job_id)
    assert got["status"] == "failed"
    assert "stopped before it finished" in got["error"]
    assert jobs.run_job(job_id) is False  # a late runner does not pick it up again


def test_a_runner_stops_when_its_job_was_failed_meanwhile(client, scenario, monkeypatch):
    monkeypatch.setattr(export_rows, "EXPORT_BATCH", 2)
    original = jobs._progress
    calls = []

    def fail_after_first_batch(engine, job_id, **values):  # type: ignore[no-untyped-def]
        calls.append(values)
        if values.get("rows_done") == 2:  # someone marked it failed (stale) meanwhile
            jobs._set(engine, job_id, jobs.ACTIVE_STATUSES, status=ExportStatus.FAILED, error="x")
        original(engine, job_id, **values)

    monkeypatch.setattr(jobs, "_progress", fail_after_first_batch)
    client.login("boss")
    job_id = start(client)
    run(job_id)
    assert calls[-1] == {"rows_done": 2}  # stopped at the first batch it could not report
    assert state(client, job_id)["status"] == "failed"
    assert os.listdir(client.application.config["EXPORT_DIR"]) == []


def test_the_job_file_is_in_the_language_of_its_owner(client, scenario):
    now, rows, people = scenario
    people["admin"].locale = "es"
    db.session.commit()
    client.login("boss")
    job_id = start(client, priority="urgent")
    run(job_id)
    sheet = sheet_of(download(client, job_id))
    assert sheet.title == "Tickets"
    assert [c.value for c in sheet[1]][:3] == ["Número", "Título", "Estado"]
    assert sheet.cell(row=2, column=4).value == "Urgente"
    got = state(client, job_id)
    assert got["message"].startswith("Lista: 1 fila.") and got["percent_text"] == "100\xa0%"


# ---------------------------------------------------------------- limits and clean-up


def test_the_same_export_twice_is_one_job_and_a_person_has_few_at_once(client, scenario):
    client.login("boss")
    first = start(client, status="open")
    assert start(client, status="open") == first  # a double click
    start(client, status="waiting")
    resp = client.post("/reports/export.xlsx/jobs", data={"status": "closed"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/reports?status=closed"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "You already have 2 exports in progress; wait for one to finish." in page
    assert db.session.scalar(select(func.count()).select_from(ExportJob)) == 2
    run(first)  # one finishes: room for another
    start(client, status="closed")


def test_the_server_runs_few_jobs_at_once(app, client, scenario, monkeypatch):
    monkeypatch.setattr(jobs, "RUNNING_IN_TOTAL", 1)
    other = app.test_client()
    other.login("tech")
    busy = start(other)
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == busy)
        .values(status=ExportStatus.RUNNING, heartbeat_at=utcnow())
    )
    db.session.commit()
    client.login("boss")
    resp = client.post("/reports/export.xlsx/jobs", data={})
    assert resp.status_code == 303 and resp.headers["Location"] == "/reports"
    assert "busy with other exports" in client.get("/reports").get_data(as_text=True)
    # a runner that died does not hold its place
    old = utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)
    db.session.execute(update(ExportJob).where(ExportJob.id == busy).values(heartbeat_at=old))
    db.session.commit()
    start(client)


def test_old_jobs_and_files_are_removed(app, client, scenario):
    client.login("boss")
    old_job, new_job = start(client, status="open"), start(client, status="waiting")
    run(old_job)
    run(new_job)
    folder = app.config["EXPORT_DIR"]
    day_ago = utcnow() - jobs.KEEP_FOR - timedelta(minutes=1)
    db.session.execute(update(ExportJob).where(ExportJob.id == old_job).values(created_at=day_ago))
    db.session.commit()
    stray = os.path.join(folder, "0123456789abcdef0123456789abcdef.part")  # a crashed runner's
    foreign = os.path.join(folder, "notes.txt")  # not ours: never touched
    for path in (stray, foreign):
        with open(path, "w") as fh:
            fh.write("x")
        then = time.time() - jobs.KEEP_FOR.total_seconds() - 60
        os.utime(path, (then, then))
    # starting a job cleans up first
    start(client, status="closed")
    assert db.session.get(ExportJob, old_job) is None
    assert sorted(os.listdir(folder)) == sorted([f"{new_job}.xlsx", "notes.txt"])
    assert client.get(f"/reports/jobs/{old_job}").status_code == 404
    download(client, new_job)

    # and so does the command, for a desk where nobody starts one
    db.session.execute(update(ExportJob).values(created_at=day_ago))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["exports-cleanup"])
    assert result.exit_code == 0, result.output
    assert "Removed 2 expired export job(s)" in result.output
    assert os.listdir(folder) == ["notes.txt"]


def test_reports_page_starts_a_job_for_large_results(client, scenario, monkeypatch):
    now, rows, people = scenario
    client.login("boss")
    html = client.get("/reports?status=open&created_from=").get_data(as_text=True)  # all time
    assert 'href="/reports/export.xlsx?status=open"' in html  # small: the direct download
    assert "xlsx-job-form" not in html
    monkeypatch.setattr(xlsx_export, "XLSX_SLOW_ROWS", 1)
    html = client.get(
        "/reports?status=open&priority=urgent&priority=medium&created_from="
    ).get_data(as_text=True)
    assert 'form="xlsx-job-form"' in html and 'id="xlsx-hint"' in html
    form = re.search(
        r'<form method="post" action="/reports/export.xlsx/jobs" id="xlsx-job-form".*?</form>',
        html,
        re.S,
    )
    assert form
    fields = re.findall(r'name="(\w+)" value="([^"]*)"', form.group(0))
    assert [f for f in fields if f[0] != "csrf_token"] == [
        ("status", "open"),
        ("priority", "medium"),
        ("priority", "urgent"),
    ] or [f for f in fields if f[0] != "csrf_token"] == [
        ("status", "open"),
        ("priority", "urgent"),
        ("priority", "medium"),
    ]
    # the direct link, called anyway, sends back to the page with a message
    resp = client.get("/reports/export.xlsx?status=open")
    assert resp.status_code == 303 and "/reports?status=open" in resp.headers["Location"]
    assert "prepared in the background" in client.get(resp.headers["Location"]).get_data(
        as_text=True
    )
    # beyond what a sheet holds: no Excel button at all
    monkeypatch.setattr(jobs, "XLSX_MAX_ROWS", 2)
    html = client.get("/reports?status=open&created_from=").get_data(as_text=True)
    assert 'id="export-xlsx" disabled' in html and "holds at most 2 rows" in html


def test_reports_page_lists_my_recent_jobs(app, client, scenario):
    client.login("boss")
    job_id = start(client)
    run(job_id)
    html = client.get("/reports").get_data(as_text=True)
    assert f'href="/reports/jobs/{job_id}"' in html and "Ready" in html
    other = app.test_client()
    other.login("tech")
    assert job_id not in other.get("/reports").get_data(as_text=True)


# ---------------------------------------------------------------- a real worker


@pytest.fixture
def served(database, tmp_path, worker_process):  # type: ignore[no-untyped-def]
    """An app whose export jobs a real worker process builds."""
    titles = [f"Pantalla {i} ñ 😀" for i in range(30)]
    for app in served_app(database, tmp_path, titles):
        worker_process(app, workers=2)
        yield app


def wait_until_finished(client, job_id):  # type: ignore[no-untyped-def]
    def finished():  # type: ignore[no-untyped-def]
        got = state(client, job_id)
        return got if got["status"] in ("done", "failed") else None

    return wait_for(finished, f"export job {job_id} to finish", timeout=120, every=0.2)


def test_worker_builds_the_file(served):
    client = served.test_client()
    client.login("boss")
    job_id = start(client, q="")
    got = wait_until_finished(client, job_id)
    assert got["status"] == "done", got
    assert got["rows_done"] == got["rows_total"] == 30
    sheet = sheet_of(download(client, job_id))
    titles = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == [f"Pantalla {i} ñ 😀" for i in range(30)]
    assert leftovers(served) == []
    with served.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.started_at is not None and job.finished_at >= job.started_at


def test_a_queue_that_is_down_does_not_lose_the_job(database, tmp_path, worker_process):
    """Redis unreachable when the job starts: the page still answers, the row stays
    queued, and a worker that starts later sends it again (its sweep) and builds it."""
    serving_down = served_app(
        database,
        tmp_path,
        ["Monitor"],
        JOBS_BACKEND="redis",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    down = next(serving_down)
    client = down.test_client()
    client.login("boss")
    job_id = start(client)
    assert state(client, job_id)["status"] == "queued"
    up = make_app(database, tmp_path)
    worker_process(up, env={"EXPORT_REQUEUE_SECONDS": "0.001"})
    with up.app_context():
        up_client = up.test_client()
        up_client.login("boss")
        assert wait_until_finished(up_client, job_id)["status"] == "done"
    next(serving_down, None)
