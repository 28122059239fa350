"""Dark mode: first visit follows the system, the switch persists across reloads and
logins (localStorage before login, the profile after), and no light frame flashes."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.users.models import User
from tests.browser.conftest import login, new_page

pytestmark = pytest.mark.browser

DARK_BG = "rgb(33, 37, 41)"  # Bootstrap 5.3 --bs-body-bg in dark mode
LIGHT_BG = "rgb(255, 255, 255)"


def first_frame(page) -> dict:  # type: ignore[no-untyped-def]
    """Theme and background as they were on DOMContentLoaded, before any script ran late."""
    return page.evaluate("() => window.__hdFirst")


def saved_theme(desk, username: str) -> str | None:  # type: ignore[no-untyped-def]
    with desk.live.app.app_context():
        theme = db.session.query(User.theme).filter_by(username=username).scalar()
        db.session.remove()
        return theme


def test_first_visit_follows_the_system_preference(browser, pages, desk):
    dark, _ = new_page(browser, color_scheme="dark")
    light, _ = new_page(browser, color_scheme="light")
    pages += [dark, light]
    dark.goto(desk.url("/login"))
    light.goto(desk.url("/login"))
    assert first_frame(dark) == {"theme": "dark", "background": DARK_BG, "htmlBackground": DARK_BG}
    assert first_frame(light)["theme"] == "light"
    assert first_frame(light)["background"] == LIGHT_BG


def test_switch_persists_across_reload_and_logins_without_flash(browser, pages, desk):
    page, guard = new_page(browser, color_scheme="light")
    pages.append(page)
    page.goto(desk.url("/login"))
    assert first_frame(page)["theme"] == "light"
    toggle = page.locator("#theme-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert page.evaluate("() => document.documentElement.dataset.bsTheme") == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    page.reload()
    # Before login the choice lives in localStorage and is applied before first paint.
    assert first_frame(page) == {"theme": "dark", "background": DARK_BG, "htmlBackground": DARK_BG}

    login(page, desk, "alice")
    assert first_frame(page)["background"] == DARK_BG
    # Signed in, the navbar switch saves the choice in the profile (CSRF-protected POST).
    with page.expect_response(lambda r: r.url.endswith("/account/theme")) as answer:
        page.locator("#theme-toggle").click()
    assert answer.value.status == 200
    assert saved_theme(desk, "alice") == "light"
    page.reload()
    assert first_frame(page)["theme"] == "light"
    with page.expect_response(lambda r: r.url.endswith("/account/theme")):
        page.locator("#theme-toggle").click()
    assert saved_theme(desk, "alice") == "dark"
    guard.check()

    # Another browser with a light system theme and empty storage: the profile wins at login.
    other, other_guard = new_page(browser, color_scheme="light")
    pages.append(other)
    login(other, desk, "alice")
    assert first_frame(other) == {"theme": "dark", "background": DARK_BG, "htmlBackground": DARK_BG}
    other.goto(desk.url("/tickets"))
    assert first_frame(other)["background"] == DARK_BG
    # ... and after signing out that browser keeps the person's theme on the login page.
    other.locator("#nav-user").click()
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url("**/login")
    assert first_frame(other)["theme"] == "dark"
    other_guard.check()


def test_profile_theme_and_language_apply_everywhere(browser, pages, desk):
    page, guard = new_page(browser, lang="en", color_scheme="light")
    pages.append(page)
    login(page, desk, "alice")
    page.goto(desk.url("/account/profile"))
    page.select_option("#locale", "es")
    page.select_option("#theme", "dark")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    assert first_frame(page)["theme"] == "dark"
    assert page.locator(".alert-success").inner_text().strip() == "Tu perfil se ha guardado."
    # The language switch in the user menu (keyboard only).
    page.locator("#nav-user").focus()
    page.keyboard.press("Enter")
    english = page.get_by_role("button", name="English")
    english.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert "Profile" in page.locator("h1").inner_text()
    guard.check()


def test_keyboard_focus_is_visible_and_motion_respects_the_setting(browser, pages, desk):
    page, guard = new_page(browser, reduced_motion="reduce")
    pages.append(page)
    login(page, desk, "alice")
    # The first Tab lands on the skip link, which becomes visible with a focus ring.
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => { const el = document.activeElement; const s = getComputedStyle(el);
             return {text: el.textContent.trim(), outline: s.outlineStyle, width: el.getBoundingClientRect().width}; }"""
    )
    assert (
        focused["text"] == "Skip to content"
        and focused["outline"] == "solid"
        and focused["width"] > 1
    )
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # With reduced motion asked for, hover lifts and fades do not animate.
    duration = page.locator(".card-hover").first.evaluate(
        "el => getComputedStyle(el).transitionDuration"
    )
    assert set(duration.replace(" ", "").split(",")) == {"0s"}
    moving, _ = new_page(browser, reduced_motion="no-preference")
    pages.append(moving)
    login(moving, desk, "alice")
    duration = moving.locator(".card-hover").first.evaluate(
        "el => getComputedStyle(el).transitionDuration"
    )
    assert duration.split(",")[0].strip() != "0s"
    guard.check()
