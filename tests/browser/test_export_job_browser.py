"""A large Excel export in Chromium: the reports page's Excel button starts a job, the
real worker process builds the file, the progress bar fills and the download starts;
without script the page reloads itself until the link is there."""

from __future__ import annotations

import re
from collections.abc import Iterator

import openpyxl
import pytest

from helpdesk.extensions import db
from helpdesk.reports.exports import xlsx as xlsx_export
from helpdesk.tickets import services as tickets
from helpdesk.users.services import create_user
from tests.browser.conftest import AXE_JS, axe_violations, new_page
from tests.conftest import PASSWORD, LiveServer, browser_login, serving

pytestmark = pytest.mark.browser

TICKETS = 40


@pytest.fixture
def served(database, tmp_path, monkeypatch, worker_process) -> Iterator[LiveServer]:
    """A live server whose export jobs a real worker process builds."""
    # These few tickets count as "large", so the page offers the background job.
    monkeypatch.setattr(xlsx_export, "XLSX_SLOW_ROWS", 10)
    with serving(database, tmp_path) as server:
        with server.app.app_context():
            boss = create_user(None, username="boss", password=PASSWORD, role="admin")
            cat = tickets.create_category(None, "Hardware")
            for i in range(TICKETS):
                tickets.create_ticket(
                    boss, title=f"Impresora {i} ñ", description="x", category_id=cat.id
                )
            db.session.commit()
            db.session.remove()
        worker_process(server.app)
        yield server


def test_excel_job_progress_bar_reaches_the_download(browser, pages, served, tmp_path):
    page, guard = new_page(browser, lang="en", accept_downloads=True)
    pages.append(page)
    browser_login(page, served, "boss")
    page.goto(served.url + "/reports")
    assert page.locator("#xlsx-hint").is_visible()
    button = page.locator("#export-xlsx")
    assert button.get_attribute("form") == "xlsx-job-form"

    # The job page polls its JSON and, once the file is ready, starts the download.
    with page.expect_download(timeout=60_000) as started:
        button.click()
        page.wait_for_url(re.compile(r".*/reports/jobs/[0-9a-f]{32}$"))
        bar = page.locator("#job-progress")
        assert bar.get_attribute("role") == "progressbar"
        assert bar.get_attribute("aria-valuemin") == "0"
        assert bar.get_attribute("aria-valuemax") == "100"
    download = started.value
    assert re.fullmatch(r"tickets_\d{4}-\d\d-\d\d_\d{4}\.xlsx", download.suggested_filename)
    link = page.locator("#job-download")
    link.wait_for(state="visible")
    assert bar.get_attribute("aria-valuenow") == "100"
    assert page.locator("#job-bar").evaluate("el => el.style.width") == "100%"
    assert f"Ready: {TICKETS} rows." in page.locator("#job-message").inner_text()
    assert page.locator("#job-error").is_hidden()

    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == [f"Impresora {i} ñ" for i in range(TICKETS)]
    guard.check()  # no console errors, no CSP violations (the script is a static file)
    if AXE_JS.exists():
        assert axe_violations(page) == []

    # the reports page lists the job, with a link back to it
    job_page = page.url.removeprefix(served.url)
    page.goto(served.url + "/reports")
    assert page.locator("#export-jobs a").first.get_attribute("href") == job_page


def test_excel_job_without_script_reloads_until_the_link_is_there(browser, pages, served):
    page, guard = new_page(browser, lang="es", java_script_enabled=False)
    pages.append(page)
    browser_login(page, served, "boss")
    page.goto(served.url + "/reports")
    page.locator("#export-xlsx").click()
    page.wait_for_url(re.compile(r".*/reports/jobs/[0-9a-f]{32}$"))
    # <noscript> meta refresh every 5 s: the finished page shows the link
    page.locator("#job-download").wait_for(state="visible", timeout=60_000)
    assert "Lista: 40 filas." in page.locator("#job-message").inner_text()
    assert page.locator("#job-progress").get_attribute("aria-valuenow") == "100"
