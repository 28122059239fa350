"""axe-core on every main page, in both themes and both languages: no serious or
critical violations, no console errors and no CSP violations."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, login, new_page, screenshot

pytestmark = pytest.mark.browser

# Pages that other features add appear here as soon as their route exists.
OPTIONAL_PAGES = {
    "/chat": "chat",
    "/reports": "reports",
    "/notifications": "notifications",
    "/admin/sla/policies": "sla-policies",
    "/admin/sla/policies/new": "sla-new-policy",
    "/admin/sla/calendars": "sla-calendars",
}


def main_pages(desk) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    pages = [
        ("dashboard", "/"),
        ("tickets", "/tickets"),
        ("ticket", f"/tickets/{desk.ticket_id}"),
        ("new-ticket", "/tickets/new"),
        ("profile", "/account/profile"),
        ("admin-users", "/admin/users"),
        ("admin-new-user", "/admin/users/new"),
        ("admin-categories", "/admin/categories"),
        ("audit", "/admin/audit"),
    ]
    rules = {rule.rule for rule in desk.live.app.url_map.iter_rules()}
    pages += [(name, path) for path, name in OPTIONAL_PAGES.items() if path in rules]
    if "conversation" in desk.extra:
        pages.append(("chat-conversation", f"/chat/{desk.extra['conversation']}"))
    return pages


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_pages_have_no_serious_axe_violations(browser, pages, desk, lang, theme):
    page, guard = new_page(browser, lang=lang, theme=theme, viewport={"width": 1280, "height": 900})
    pages.append(page)
    found: dict[str, list] = {}
    checked = []

    def audit(name: str) -> None:
        assert (
            page.evaluate("() => document.documentElement.getAttribute('data-bs-theme')") == theme
        )
        assert page.evaluate("() => document.documentElement.lang") == lang
        violations = axe_violations(page)
        if violations:
            found[name] = violations
        guard.check()
        checked.append(name)
        if lang == "en":
            screenshot(page, f"{name}-{theme}-desktop")

    page.goto(desk.url("/login"))
    audit("login")
    login(page, desk, "boss")
    for name, path in main_pages(desk):
        response = page.goto(desk.url(path))
        assert response is not None and response.status == 200, path
        audit(name)
    # The requester's view of a ticket has other controls (close/reopen, no internal notes).
    page.context.clear_cookies()
    login(page, desk, "alice")
    page.goto(desk.url(f"/tickets/{desk.ticket_id}"))
    audit("ticket-as-requester")
    assert not found, "axe serious/critical violations: " + repr(found)
    assert len(checked) >= 11
