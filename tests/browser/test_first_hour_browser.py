"""The first hour in real Chromium: the title box counts characters like the server."""

from __future__ import annotations

import re

import pytest

from helpdesk.extensions import db
from tests.browser.conftest import axe_violations, login, new_page

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


FIRST_HOUR = {
    "es": {
        "change": "Cambiar contraseña",
        "ready": "Prepara la mesa de ayuda",
        "categories": "Revisa las categorías de tickets",
        "general": "General",
        "created": "creado",
        "hide": "Ocultar esta lista",
    },
    "en": {
        "change": "Change password",
        "ready": "Get the desk ready",
        "categories": "Review the ticket categories",
        "general": "General",
        "created": "created",
        "hide": "Hide this list",
    },
}
NEW_PASSWORD = "Fresh-Desk-Passphrase-2026!"


@pytest.fixture
def fresh_desk(database, tmp_path):  # type: ignore[no-untyped-def]
    """A desk as `make run` leaves it: the admin with the development password (to be
    changed at first sign-in) and the first start's defaults, in the desk's language."""
    from flask_babel import force_locale

    from helpdesk.cli import DEFAULT_ADMIN_PASSWORD
    from helpdesk.desk.services import first_start_defaults
    from helpdesk.users import services as users
    from tests.conftest import serving

    with serving(database, tmp_path) as live:
        with live.app.app_context():
            users.create_user(
                None,
                username="admin",
                password=DEFAULT_ADMIN_PASSWORD,
                role="admin",
                full_name="Administrator",
                must_change_password=True,
                check_policy=False,
            )
            with force_locale("es"):
                first_start_defaults()
            db.session.commit()
            db.session.remove()
        yield live


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_first_hour(browser, pages, fresh_desk, lang):
    """Sign in, change the forced password, see the checklist, file a ticket in a
    default category; axe finds nothing serious on any page on the way."""
    t = FIRST_HOUR[lang]
    page, guard = new_page(browser, lang=lang, viewport={"width": 1280, "height": 900})
    pages.append(page)
    found: dict[str, list] = {}

    def audit(name: str) -> None:
        assert page.evaluate("() => document.documentElement.lang") == lang
        violations = axe_violations(page)
        if violations:
            found[name] = violations
        guard.check()

    url = fresh_desk.url
    page.goto(url + "/")
    assert page.url == url + "/login?next=/"
    audit("login")
    page.fill("#username", "admin")
    page.fill("#password", "admin123")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/account/password$"))
    audit("change-password")
    page.fill("#current_password", "admin123")
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(url + "/")
    checklist = page.locator("#setup-checklist")
    assert t["ready"] in checklist.inner_text()
    done = checklist.locator('[data-step="categories"] .bi-check-circle-fill')
    assert done.count() == 1 and t["categories"] in checklist.inner_text()
    audit("dashboard-checklist")
    checklist.locator('[data-step="branding"] a').click()
    page.wait_for_url(re.compile(r".*/admin/branding$"))
    audit("branding")

    page.goto(url + "/tickets/new")
    audit("new-ticket")
    page.fill("#title", "La impresora no imprime" if lang == "es" else "The printer does not print")
    page.fill("#description", "Desde esta mañana." if lang == "es" else "Since this morning.")
    page.select_option("#category_id", label=t["general"])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    assert t["created"] in page.inner_text("main").lower() or t["created"] in page.content()
    audit("ticket")

    page.goto(url + "/")
    page.click(f"text={t['hide']}")
    page.wait_for_url(url + "/")
    assert page.locator("#setup-checklist").count() == 0
    audit("dashboard-after")
    assert not found, found
