"""The hostile HTML messages of the corpus, filed and then opened in Chromium: no
script runs, no dialog opens, no remote image or frame is requested."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from tests.conftest import PASSWORD, browser_login
from tests.mail.conftest import CORPUS, DESK

pytestmark = pytest.mark.browser

HOSTILE = [
    "html-script-iframe.eml",
    "html-javascript-links.eml",
    "html-css-expression.eml",
    "html-remote-images.eml",
    "html-escaped-script-text.eml",
]


def test_hostile_html_mail_is_inert_in_the_browser(live_server, page) -> None:  # type: ignore[no-untyped-def]
    from helpdesk.mail import services
    from helpdesk.tickets.services import create_category
    from helpdesk.transaction import unit_of_work
    from helpdesk.users.services import create_user

    app = live_server.app
    app.config["MAIL_FROM"] = DESK
    ids = []
    with app.app_context():
        create_user(None, username="boss", password=PASSWORD, role="admin")
        create_category(None, "General")
        db.session.commit()
        for name in HOSTILE:
            with unit_of_work():
                ids.append(services.ingest((CORPUS / name).read_bytes()).ticket_id)
        db.session.remove()
    dialogs: list[str] = []
    outside: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    browser_login(page, live_server, "boss")
    for ticket_id in ids:
        page.goto(f"{live_server.url}/tickets/{ticket_id}")
        page.wait_for_load_state("load")
        for link in page.locator("main a").all():
            href = (link.get_attribute("href") or "").strip().lower()
            assert not href.startswith("javascript"), href
        assert page.locator("main iframe").count() == 0
    assert dialogs == [] and outside == []
