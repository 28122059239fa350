"""The first hour in real Chromium: the title box counts characters like the server."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, new_page

pytestmark = pytest.mark.browser


def test_title_counter_counts_characters_and_keeps_a_long_paste(browser, pages, desk):
    page, guard = new_page(browser, lang="en")
    pages.append(page)
    login(page, desk, "alice")
    page.goto(desk.url("/tickets/new"))
    counter = page.locator("#title-count")
    assert counter.inner_text() == "0 of 200 characters"
    page.fill("#title", "😀" * 150)  # 300 UTF-16 units, 150 characters
    assert counter.inner_text() == "150 of 200 characters"
    long_title = "a" * 2000
    page.fill("#title", long_title)
    assert page.input_value("#title") == long_title  # nothing cut without a word
    assert counter.inner_text() == "1800 characters too many (at most 200)."
    assert page.get_attribute("#title", "aria-invalid") == "true"
    assert page.locator("#title-count-live").inner_text() == counter.inner_text()
    page.fill("#description", "It does not start.")
    page.click("main button[type=submit]")
    guard.allow_error_status()
    assert "The title may have at most 200 characters; this one has 2000." in page.inner_text(
        "main"
    )
    guard.check()
