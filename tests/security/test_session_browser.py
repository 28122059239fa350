"""The session clock in real Chromium, two tabs: countdown, warning 60 s before expiry,
"stay signed in" (CSRF-protected keep-alive) reaching every tab, and the redirect to the
sign-in page at expiry in every tab. Browser and server clocks are both moved."""

from __future__ import annotations

import time

import pytest

from helpdesk.auth import session as auth_session
from helpdesk.extensions import db
from helpdesk.users.services import create_user
from tests.conftest import PASSWORD, browser_login

pytestmark = pytest.mark.browser


def test_countdown_warning_keepalive_and_expiry_in_all_tabs(live_server, browser, monkeypatch):  # type: ignore[no-untyped-def]
    server_now = {"t": time.time()}
    monkeypatch.setattr(auth_session, "clock", lambda: server_now["t"])
    live_server.app.config["SESSION_TIMEOUT_MINUTES"] = 3
    with live_server.app.app_context():
        create_user(None, username="alice", password=PASSWORD, role="user")
        db.session.commit()

    context = browser.new_context()
    context.clock.install()
    errors: list[str] = []
    tab1 = context.new_page()
    tab1.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(tab1, live_server, "alice")
    tab2 = context.new_page()
    tab2.on("pageerror", lambda e: errors.append(str(e)))
    tab2.goto(live_server.url + "/tickets")

    for tab in (tab1, tab2):
        countdown = tab.locator("#session-countdown [data-session-remaining]")
        assert countdown.inner_text() in ("3:01", "3:00", "2:59")
        assert tab.locator("#session-warning").is_hidden()

    def advance(seconds: int) -> None:
        server_now["t"] += seconds
        context.clock.run_for(seconds * 1000)

    advance(125)  # 55 s left: the warning shows in both tabs
    for tab in (tab1, tab2):
        tab.locator("#session-warning").wait_for(state="visible")
        assert tab.locator("#session-keepalive").is_visible()
    tab1.screenshot(path="/tmp/hd-session-warning.png")

    tab1.click("#session-keepalive")  # POST with X-CSRFToken; the answer reaches tab 2
    for tab in (tab1, tab2):
        tab.locator("#session-warning").wait_for(state="hidden")
        assert tab.locator("#session-countdown [data-session-remaining]").inner_text() in (
            "3:01",
            "3:00",
            "2:59",
        )

    advance(181)  # past the idle timeout: every tab goes to the sign-in page
    for tab in (tab1, tab2):
        tab.wait_for_url("**/login**")
        tab.locator(".alert-warning", has_text="expired").wait_for()
        assert tab.locator("#username").is_visible()
    tab2.screenshot(path="/tmp/hd-session-expired.png")
    # the server agrees: the session is gone
    response = tab1.request.get(live_server.url + "/tickets", max_redirects=0)
    assert response.status == 302
    assert errors == []
    context.close()
