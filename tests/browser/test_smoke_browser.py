import pytest

from helpdesk.extensions import db
from helpdesk.tickets.services import create_category
from helpdesk.users.services import create_user
from tests.conftest import PASSWORD, browser_login

pytestmark = pytest.mark.browser


def test_user_files_ticket_in_browser(live_server, page):
    with live_server.app.app_context():
        create_user(None, username="alice", password=PASSWORD, role="user")
        create_category(None, "Hardware")
        db.session.commit()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server, "alice")
    page.goto(live_server.url + "/tickets/new")
    page.fill("#title", "Screen flickers")
    page.fill("#description", "Since *Monday*")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Screen flickers")
    assert page.locator("em", has_text="Monday").count() == 1
    page.screenshot(path="/tmp/hd-shot.png", full_page=True)
    assert errors == []
