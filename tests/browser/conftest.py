"""Browser-test helpers: seeded desk, contexts per language/theme, axe-core, page guards."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpdesk.extensions import db
from tests.conftest import PASSWORD, LiveServer

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "tests" / ".npm" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
SCREENSHOTS = os.environ.get("HELPDESK_SCREENSHOTS") == "1"

# Playwright's locale sets Accept-Language, which picks the page language before login.
LOCALES = {"es": "es-ES", "en": "en-US"}

# Collects CSP violations and uncaught errors from the very start of every document.
GUARD_SCRIPT = """
(() => {
  window.__hdProblems = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__hdProblems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI);
  });
  document.addEventListener('DOMContentLoaded', () => {
    const root = document.documentElement;
    window.__hdFirst = {
      theme: root.getAttribute('data-bs-theme'),
      background: getComputedStyle(document.body).backgroundColor,
      htmlBackground: getComputedStyle(root).backgroundColor,
    };
  });
})();
"""


@dataclass
class Desk:
    """Ids and names of the seeded data a browser test works on."""

    live: LiveServer
    ticket_id: int = 0
    ticket_number: str = ""
    category: str = "Hardware"
    extra: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.live.url + path


@pytest.fixture
def desk(live_server) -> Desk:
    """admin `boss`, technician `tech`, user `alice`, a category and one commented ticket."""
    from helpdesk.tickets import services as tickets
    from helpdesk.users import services as users

    with live_server.app.app_context():
        boss = users.create_user(
            None, username="boss", password=PASSWORD, role="admin", full_name="Beatriz Jefa"
        )
        tech = users.create_user(
            None, username="tech", password=PASSWORD, role="technician", full_name="Tomás Técnico"
        )
        alice = users.create_user(
            None, username="alice", password=PASSWORD, role="user", full_name="Alicia Usuaria"
        )
        cat = tickets.create_category(None, "Hardware", "Machines and peripherals")
        tickets.create_category(None, "Software", "Programs and licences")
        db.session.flush()
        ticket = tickets.create_ticket(
            alice,
            title="The printer jams on every page",
            description="Since Monday the **2nd floor** printer jams.\n\n- tried new paper\n- restarted it",
            category_id=cat.id,
            priority="high",
        )
        tickets.take_ticket(tech, ticket)
        tickets.add_comment(tech, ticket, "I will look at it this afternoon.")
        tickets.add_comment(tech, ticket, "Probably the fuser.", internal=True)
        # A few more, so lists, badges and charts have something to show.
        for title, priority, status in (
            ("VPN drops every hour", "urgent", "waiting"),
            ("New laptop for María", "low", "resolved"),
            ("Excel crashes when saving", "medium", None),
        ):
            other = tickets.create_ticket(
                alice, title=title, description=title, category_id=cat.id, priority=priority
            )
            if status:
                tickets.take_ticket(tech, other)
                tickets.change_status(tech, other, status)
        d = Desk(live_server, ticket_id=ticket.id, ticket_number=ticket.number)
        d.extra = {"boss": boss.id, "alice": alice.id}
        try:  # the chat feature, where it exists: a short conversation for its page
            from helpdesk.chat import services as chat
        except ImportError:
            pass
        else:
            talk = chat.start_conversation(alice, boss)
            chat.send_message(alice, talk, "Hola, ¿podéis mirar la impresora?", notify=False)
            chat.send_message(boss, talk, "Sí, Tomás va para allá.", notify=False)
            d.extra["conversation"] = talk.id
        db.session.commit()
        db.session.remove()
    return d


class Guard:
    """Fails the test on console errors, uncaught page errors or CSP violations."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror {exc}"))

    def _console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error":
            self.problems.append(f"console {msg.text}")

    def allow_error_status(self) -> None:
        """The page itself was answered 4xx on purpose (a form with errors): Chromium
        logs that as a console error, which is expected once."""
        self.problems = [p for p in self.problems if "status of 4" not in p]

    def check(self) -> None:
        in_page = self.page.evaluate("() => window.__hdProblems || []")
        problems = self.problems + list(in_page)
        assert not problems, f"{self.page.url}: {problems}"


def new_page(browser, *, lang: str = "en", theme: str | None = None, **context_args: Any):  # type: ignore[no-untyped-def]
    """A fresh context (own cookies and storage) in `lang`, optionally with a saved theme."""
    # Reduced motion: Bootstrap then skips its fades, so axe never measures the colour
    # contrast of an alert half faded in (a flake seen on a busy machine).
    context_args.setdefault("reduced_motion", "reduce")
    context = browser.new_context(locale=LOCALES[lang], **context_args)
    context.add_init_script(GUARD_SCRIPT)
    if theme:
        context.add_init_script(
            f"try {{ localStorage.setItem('helpdesk-theme', '{theme}'); }} catch (e) {{}}"
        )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page, Guard(page)


def login(page, desk: Desk, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(desk.url("/login"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def axe_violations(page) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Serious and critical axe-core violations on the current page.

    axe is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the CSP under test stays exactly as served.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 200))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Writes docs/screenshots/<name>.png when HELPDESK_SCREENSHOTS=1."""
    if SCREENSHOTS:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        # Let data fetched after load (dashboard figures, charts) arrive and draw; only
        # when writing the pictures, so normal runs are not slowed down.
        with contextlib.suppress(Exception):  # a live socket may keep the network busy
            page.wait_for_load_state("networkidle", timeout=5_000)
        page.wait_for_timeout(1_200)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page)


@pytest.fixture
def pages(browser) -> Iterator[list]:
    """Closes every context a test opened with `new_page` (passed through this list)."""
    opened: list = []
    yield opened
    for page in opened:
        page.context.close()
