"""Static guarantees the CSP relies on, and the Markdown sanitiser's allow-list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpdesk.security.sanitize import render_markdown

TEMPLATES = Path(__file__).resolve().parents[2] / "helpdesk" / "templates"


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_templates_have_no_inline_handlers_styles_or_unnonced_scripts():  # type: ignore[no-untyped-def]
    problems = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<[a-zA-Z][^>]*?\s(on[a-z]+)\s*=", text):
            problems.append(f"{path.name}: {m.group(1)}= attribute")
        for m in re.finditer(r"<[a-zA-Z][^>]*?\sstyle\s*=", text):
            problems.append(f"{path.name}: style= attribute")
        for m in re.finditer(r"<script\b([^>]*)>", text):
            attrs = m.group(1)
            if "application/json" in attrs:
                continue  # data islands never run
            if 'nonce="{{ csp_nonce() }}"' not in attrs:
                problems.append(f"{path.name}: <script{attrs}> without the CSP nonce")
        # |safe only on *_html fields: Markdown already cleaned by nh3 when it was stored
        for m in re.finditer(r"([\w.]+)\s*\|\s*safe\b", text):
            if not m.group(1).endswith("_html"):
                line = text[: m.start()].count("\n") + 1
                problems.append(f"{path.name}:{line}: {m.group(1)}|safe")
        if "javascript:" in text.lower():
            problems.append(f"{path.name}: javascript: URL")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("[x](javascript:alert(1))", 'href="javascript'),
        ("[x](JaVaScRiPt:alert(1))", 'href="javascript'),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", 'href="data'),
        ('<a href="javascript:alert(1)">x</a>', 'href="javascript'),
        ("[x](vbscript:msgbox(1))", 'href="vbscript'),
        ("![x](https://example.invalid/a.png)", "<img"),
        ('<a href="https://e.invalid" onclick="x()">a</a>', "onclick"),
        ("<iframe src=//e.invalid></iframe>", "<iframe"),
        ("<style>*{}</style>", "<style"),
    ],
)
def test_markdown_drops_active_content(source, absent):  # type: ignore[no-untyped-def]
    # only real tags matter: escaped text (&lt;script&gt;) is harmless
    tags = " ".join(re.findall(r"<[^>]+>", render_markdown(source))).lower()
    assert absent.lower() not in tags


def test_markdown_links_are_safe_and_formatting_survives():  # type: ignore[no-untyped-def]
    html = render_markdown("**bold** _it_ `code` [site](https://example.org) <b>raw</b>")
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html  # raw HTML is shown as text
    assert 'href="mailto:a@b.c"' in render_markdown("[m](mailto:a@b.c)")
