"""Real time in Chromium with two browser contexts (two people, two cookies)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, new_page, screenshot

pytestmark = pytest.mark.browser


def test_chat_message_and_unread_badge_without_reload(desk, browser, pages):
    alice, alice_guard = new_page(browser)
    boss, boss_guard = new_page(browser)
    pages.extend([alice, boss])
    login(alice, desk, "alice")
    login(boss, desk, "boss")
    conv = desk.extra["conversation"]
    boss.goto(desk.url("/tickets"))  # the boss is elsewhere: badge + toast expected
    boss.wait_for_function("() => window.helpdesk.socket && window.helpdesk.socket.connected")
    alice.goto(desk.url(f"/chat/{conv}"))
    alice.wait_for_function("() => window.helpdesk.socket && window.helpdesk.socket.connected")
    # The boss appears online in alice's open chat (staff presence is visible to users).
    alice.wait_for_selector(f'#chat [data-presence-user="{desk.extra["boss"]}"].presence-online')

    alice.fill("#chat-body", "The printer is on fire <b>now</b> https://example.org/fire")
    alice.keyboard.press("Enter")
    alice.wait_for_selector("#chat-messages li.mine >> text=on fire")
    badge = boss.locator("#chat-unread")
    badge.wait_for(state="visible")
    assert badge.inner_text() == "1"
    assert boss.locator("#notifications-unread").inner_text() == "1"  # the bell too

    boss.goto(desk.url(f"/chat/{conv}"))
    message = boss.locator("#chat-messages li.theirs").last
    assert "on fire <b>now</b>" in message.inner_text()  # escaped, shown as text
    link = message.locator("a")
    assert link.get_attribute("href") == "https://example.org/fire"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    # Opening it reads it: the badge goes in both places, alice sees "Seen".
    boss.locator("#chat-unread").wait_for(state="hidden")
    alice.wait_for_selector("#chat-messages li.mine:last-child .chat-status >> text=Seen")
    boss.fill("#chat-body", "On my way")
    boss.keyboard.press("Enter")
    alice.wait_for_selector("#chat-messages li.theirs >> text=On my way")
    screenshot(alice, "chat")
    alice_guard.check()
    boss_guard.check()


def test_comment_appears_live_on_the_other_open_ticket_page(desk, browser, pages):
    alice, alice_guard = new_page(browser)
    tech, tech_guard = new_page(browser)
    pages.extend([alice, tech])
    login(alice, desk, "alice")
    login(tech, desk, "tech")
    url = desk.url(f"/tickets/{desk.ticket_id}")
    alice.goto(url)
    alice.wait_for_function("() => window.helpdesk.socket && window.helpdesk.socket.connected")
    tech.goto(url)
    # Staff see who else is looking at the ticket.
    tech.wait_for_selector("#ticket-viewers:not([hidden]) >> text=Alicia Usuaria")

    tech.fill("textarea[name=body]", "Internal: order a new fuser")
    tech.check("input[name=internal]")
    tech.click("form[action$='/comments'] button[type=submit]")
    tech.wait_for_url(re.compile(r".*#timeline-end$"))
    tech.fill("textarea[name=body]", "Replaced the fuser, try again please")
    tech.click("form[action$='/comments'] button[type=submit]")
    alice.wait_for_selector("#timeline >> text=Replaced the fuser")
    timeline = alice.locator("#timeline").inner_text()
    assert "order a new fuser" not in timeline  # internal notes never reach the requester
    assert "Probably the fuser" not in timeline
    screenshot(tech, "ticket-live")
    alice_guard.check()
    tech_guard.check()


def test_socket_upgrades_to_websocket_under_connect_src_self(desk, browser, pages):
    """CSP `connect-src 'self'` (no bare ws:/wss:) still lets Chromium open the
    same-origin WebSocket: the socket upgrades from polling and no violation is logged."""
    page, guard = new_page(browser)
    pages.append(page)
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security" in msg.text else None,
    )
    login(page, desk, "alice")
    csp = page.evaluate("async () => (await fetch('/')).headers.get('Content-Security-Policy')")
    assert "connect-src 'self';" in csp and "ws:" not in csp
    page.wait_for_function(
        "() => window.helpdesk.socket && window.helpdesk.socket.connected"
        " && window.helpdesk.socket.io.engine.transport.name === 'websocket'"
    )
    assert not violations, violations
    guard.check()
