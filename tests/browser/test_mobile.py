"""The main journey on a 375×812 phone: the navigation collapses, the ticket list turns
into cards, nothing scrolls sideways, and filing, reading and replying work."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations, login, new_page, screenshot

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide on a 375px screen"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_phone_journey(browser, pages, desk, theme):
    page, guard = new_page(browser, lang="es", theme=theme, **PHONE)
    pages.append(page)
    page.goto(desk.url("/login"))
    no_sideways_scroll(page)
    screenshot(page, f"login-{theme}-phone", full_page=False)
    login(page, desk, "alice")
    no_sideways_scroll(page)
    screenshot(page, f"dashboard-{theme}-phone", full_page=False)

    # The navbar is collapsed behind the toggler and opens on tap.
    nav_link = page.locator("#nav-main").get_by_role("link", name="Nuevo ticket")
    assert not nav_link.is_visible()
    page.get_by_role("button", name="Mostrar u ocultar la navegación").click()
    nav_link.wait_for(state="visible")
    with page.expect_navigation():
        nav_link.click()
    page.fill("#title", "El ratón no responde")
    page.fill("#description", "Desde esta mañana el **ratón** no se mueve.")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "El ratón no responde"
    no_sideways_scroll(page)

    # The list shows each ticket as a card with labelled values, not a wide table.
    page.goto(desk.url("/tickets"))
    no_sideways_scroll(page)
    row = page.locator("tbody tr").first
    assert row.evaluate("el => getComputedStyle(el).display") == "block"
    assert page.locator("thead").evaluate("el => el.getBoundingClientRect().height") <= 1
    screenshot(page, f"tickets-{theme}-phone", full_page=False)

    # Open the seeded ticket, read the technician's reply, answer it.
    with page.expect_navigation():
        page.get_by_role("link", name=desk.ticket_number).click()
    assert page.get_by_text("I will look at it this afternoon.").is_visible()
    assert page.get_by_text("Probably the fuser.").count() == 0  # internal note stays hidden
    page.fill("#body", "Gracias, estaré en mi puesto.")
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar").click()
    assert page.locator("#timeline").get_by_text("Gracias, estaré en mi puesto.").count() == 1
    no_sideways_scroll(page)
    screenshot(page, f"ticket-{theme}-phone", full_page=False)
    assert axe_violations(page) == []
    guard.check()


def test_every_page_fits_a_phone(browser, pages, desk):
    """Wide tables scroll inside their own box; nothing pushes the page sideways."""
    page, guard = new_page(browser, lang="en", **PHONE)
    pages.append(page)
    login(page, desk, "boss")
    rules = {rule.rule for rule in desk.live.app.url_map.iter_rules()}
    paths = ["/", "/admin/users", "/admin/categories", "/admin/audit", "/account/profile"]
    paths += [p for p in ("/chat", "/notifications", "/reports") if p in rules]
    if "conversation" in desk.extra:
        paths.append(f"/chat/{desk.extra['conversation']}")
    paths.append("/tickets/new")
    for path in paths:
        page.goto(desk.url(path))
        no_sideways_scroll(page)
    guard.check()
    assert re.search(r"/tickets/new$", page.url)
