"""Two-factor sign-in in Chromium: set it up from the profile (QR code drawn by the
server, code from an authenticator computed here with pyotp, recovery codes shown),
sign out, sign in with password then code; axe clean on each page, in both languages."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.browser.conftest import axe_violations, new_page, screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "es"])
def test_enrol_then_sign_in_with_a_code(desk, browser, pages, lang):
    page, guard = new_page(browser, lang=lang)
    pages.append(page)
    page.goto(desk.url("/login"))
    page.fill("#username", "tech")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))

    page.goto(desk.url("/account/profile"))
    page.click("a[href='/account/two-factor']")
    assert axe_violations(page) == []
    page.fill("#current_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account/two-factor/confirm$"))
    assert page.locator("figure.totp-qr svg").count() == 1  # the QR code, inline SVG
    assert axe_violations(page) == []
    screenshot(page, f"two-factor-setup-{lang}")
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.fill("#code", totp.now())
    page.click("main form button[type=submit]")
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    assert axe_violations(page) == []

    page.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'post';
        f.action = '/logout'; const t = document.createElement('input'); t.type = 'hidden';
        t.name = 'csrf_token'; t.value = document.querySelector('meta[name=csrf-token]').content;
        f.appendChild(t); document.body.appendChild(f); f.submit(); }"""
    )
    page.wait_for_url(re.compile(r".*/login$"))

    page.fill("#username", "tech")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/two-factor$"))
    assert axe_violations(page) == []
    screenshot(page, f"two-factor-sign-in-{lang}")
    page.fill("#code", "000000")
    page.click("main form button[type=submit]")
    page.locator(".invalid-feedback").first.wait_for()
    guard.allow_error_status()
    # enrolment used this step's code; the next step's is within the allowed drift
    page.fill("#code", totp.at(time.time() + 30))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    page.wait_for_function("() => window.helpdesk.socket && window.helpdesk.socket.connected")
    guard.check()
