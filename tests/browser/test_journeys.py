"""The main journeys of each role, in Spanish and in English, in real Chromium:
a user files a ticket with an attachment, a technician takes it and replies, the
user reads the reply, closes and reopens it; an administrator creates a user and
a category."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, new_page

pytestmark = pytest.mark.browser

TEXT = {
    "es": {
        "created": "creado",
        "take": "Tomar este ticket",
        "send": "Enviar",
        "close": "Cerrar ticket",
        "reopen": "Reabrir ticket",
        "closed": "Cerrado",
        "open": "Abierto",
        "in_progress": "En curso",
        "admin": "Administración",
        "users": "Usuarios",
        "new_user": "Nuevo usuario",
        "categories": "Categorías",
        "user_created": "Usuario carmen creado.",
        "category_created": "Categoría creada.",
    },
    "en": {
        "created": "created",
        "take": "Take this ticket",
        "send": "Send",
        "close": "Close ticket",
        "reopen": "Reopen ticket",
        "closed": "Closed",
        "open": "Open",
        "in_progress": "In progress",
        "admin": "Administration",
        "users": "Users",
        "new_user": "New user",
        "categories": "Categories",
        "user_created": "User carmen created.",
        "category_created": "Category created.",
    },
}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_main_journeys(browser, pages, desk, lang, tmp_path):
    t = TEXT[lang]
    screenshot_file = tmp_path / "error-log.txt"
    screenshot_file.write_text("Paper jam at 09:14\nerror E-42\n", encoding="utf-8")

    # --- the user files a ticket with an attachment
    user, user_guard = new_page(browser, lang=lang)
    pages.append(user)
    login(user, desk, "alice")
    user.get_by_role("link", name=re.compile("^(Nuevo ticket|New ticket)$")).first.click()
    # Sent empty, the form answers with inline, announced errors next to the fields.
    with user.expect_navigation():
        user.click("main button[type=submit]")
    title = user.locator("#title")
    assert title.get_attribute("aria-invalid") == "true"
    assert "title-errors" in (title.get_attribute("aria-describedby") or "")
    assert user.locator("#title-errors").is_visible()
    user_guard.allow_error_status()
    user.fill("#title", "Monitor goes black")
    user.fill("#description", "It turns off after **ten minutes**.")
    user.select_option("#category_id", label="Software")
    user.select_option("#priority", "urgent")
    user.set_input_files("#attachments", str(screenshot_file))
    user.click("main button[type=submit]")
    user.wait_for_url(re.compile(r".*/tickets/\d+$"))
    assert t["created"] in user.locator(".alert-success").inner_text()
    assert user.locator("h1").inner_text() == "Monitor goes black"
    assert user.locator("#attachment-list").get_by_text("error-log.txt").count() == 1
    ticket_url = user.url
    user_guard.check()

    # --- the technician takes it and comments
    tech, tech_guard = new_page(browser, lang=lang)
    pages.append(tech)
    login(tech, desk, "tech")
    tech.goto(desk.url("/tickets?assignee=none"))
    with tech.expect_navigation():
        tech.get_by_role("link", name=re.compile(r"TKT-")).first.click()
    assert tech.locator("h1").inner_text() == "Monitor goes black"
    with tech.expect_navigation():
        tech.get_by_role("button", name=t["take"]).click()
    assert t["in_progress"] in tech.locator("#ticket-status").inner_text()
    tech.fill("#body", "Please update the **graphics driver**.")
    with tech.expect_navigation():
        tech.get_by_role("button", name=t["send"]).click()
    assert tech.locator("#timeline strong", has_text="graphics driver").count() == 1
    tech_guard.check()

    # --- the user sees the reply, closes and reopens the ticket
    user.goto(ticket_url)
    assert user.locator("#timeline strong", has_text="graphics driver").count() == 1
    assert user.locator("#status-select").count() == 0  # plain buttons, no bare dropdown
    with user.expect_navigation():
        user.get_by_role("button", name=t["close"]).click()
    assert t["closed"] in user.locator("#ticket-status").inner_text()
    with user.expect_navigation():
        user.get_by_role("button", name=t["reopen"]).click()
    assert t["open"] in user.locator("#ticket-status").inner_text()
    user_guard.check()

    # --- the administrator creates a user and a category, through the menu
    admin, admin_guard = new_page(browser, lang=lang)
    pages.append(admin)
    login(admin, desk, "boss")
    admin.get_by_role("button", name=t["admin"]).click()
    admin.get_by_role("link", name=t["users"], exact=True).click()
    admin.get_by_role("link", name=t["new_user"]).click()
    admin.fill("#username", "carmen")
    admin.fill("#full_name", "Carmen Núñez")
    admin.fill("#email", "carmen@example.org")
    admin.select_option("#role", "technician")
    admin.fill("#password", "Temporal-Clave-2026")
    with admin.expect_navigation():
        admin.click("main form button[type=submit]")
    assert t["user_created"] in admin.locator(".flash-messages").inner_text()
    admin.get_by_role("button", name=t["admin"]).click()
    admin.get_by_role("link", name=t["categories"], exact=True).click()
    admin.fill("#name", "Red y wifi")
    admin.fill("#description", "Cables, wifi, VPN")
    with admin.expect_navigation():
        admin.click("main form.card button[type=submit]")
    assert t["category_created"] in admin.locator(".flash-messages").inner_text()
    assert admin.locator("table").get_by_text("Red y wifi").count() == 1
    admin_guard.check()
