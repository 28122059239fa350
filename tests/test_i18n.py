"""Catalogue completeness: every string the code and templates mark for translation has
a Spanish translation and an English entry, and the committed .mo files are current.

When this fails after you added strings: run `make i18n`, fill the empty Spanish
msgstr entries in helpdesk/translations/es/LC_MESSAGES/messages.po, run `make i18n`
again (it compiles) and commit the .po and .mo files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "helpdesk" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _keywords() -> dict:
    """The same keywords as `make i18n` (read from the Makefile: one source of truth)."""
    line = next(
        ln for ln in (ROOT / "Makefile").read_text().splitlines() if ln.startswith("BABEL_KEYWORDS")
    )
    names = re.findall(r"-k (\w+)", line)
    assert names, "BABEL_KEYWORDS in the Makefile names no keyword"
    return {**DEFAULT_KEYWORDS, **{name: None for name in names}}


@pytest.fixture(scope="module")
def source_messages() -> set[tuple[str, str | None]]:
    """(msgid, message context) of every marked string; pgettext gives a context."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: set[tuple[str, str | None]] = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=_keywords()
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.add((msgid, context))
    return found


@pytest.fixture(scope="module")
def source_ids(source_messages) -> set[str]:  # type: ignore[no-untyped-def]
    return {msgid for msgid, _context in source_messages}


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def test_source_strings_were_found(source_ids):
    # Guards the test itself: extraction must see templates, forms and services.
    assert {"Sign in", "Dashboard", "Only administrators can manage users."} <= source_ids
    assert len(source_ids) > 150


@pytest.mark.parametrize("locale", ["es", "en"])
def test_every_string_is_in_the_catalogue(source_messages, locale):
    catalog = _catalog(locale)
    missing = sorted(
        f"{ctx}|{i}" if ctx else i
        for i, ctx in source_messages
        if catalog.get(i, context=ctx) is None
    )
    assert not missing, f"not in {locale} catalogue (run `make i18n`): {missing}"


def test_every_spanish_entry_is_translated(source_messages):
    catalog = _catalog("es")

    def translated(message) -> bool:  # type: ignore[no-untyped-def]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(strings)

    empty = sorted(
        f"{ctx}|{i}" if ctx else i
        for i, ctx in source_messages
        if catalog.get(i, context=ctx) is not None and not translated(catalog.get(i, context=ctx))
    )
    assert not empty, f"empty Spanish msgstr: {empty}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy (unchecked) Spanish entries: {fuzzy}"


@pytest.mark.parametrize("locale", ["es", "en"])
def test_placeholders_match(locale):
    for message in _catalog(locale):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in strings:
            if ids[0] and string:
                assert set(PLACEHOLDER.findall(string)) <= expected and (
                    len(ids) > 1 or set(PLACEHOLDER.findall(string)) == expected
                ), f"{locale}: placeholders differ in {message.id!r} → {message.string!r}"


@pytest.mark.parametrize("locale", ["es", "en"])
def test_compiled_catalogue_is_current(locale):
    """The committed .mo (what the app loads) says the same as the .po."""

    def entries(messages) -> dict:  # type: ignore[no-untyped-def]
        def plain(value):  # type: ignore[no-untyped-def]
            return tuple(value) if isinstance(value, (list, tuple)) else value

        return {
            plain(m.id): plain(m.string)
            for m in messages
            if m.id and any(plain(m.string) if isinstance(m.string, (list, tuple)) else [m.string])
        }

    po = entries(_catalog(locale))
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = entries(read_mo(f))
    stale = {k: (v, mo.get(k)) for k, v in po.items() if mo.get(k) != v}
    # The compiler fills untranslated plurals with the source text; nothing else may differ.
    stale.update({k: (None, v) for k, v in mo.items() if k not in po and v != k})
    assert not stale, f"{locale} messages.mo is stale (run `make i18n`): {stale}"


def _fresh_locale() -> None:
    """The fixtures keep one app context (and so one `g`) open around every request of a
    test, and Flask-Babel caches the locale there; a real server starts each request afresh."""
    from flask_babel import refresh

    refresh()


def test_pages_render_in_both_languages(client):
    spanish = client.get("/login", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="es"' in spanish and "Iniciar sesión" in spanish
    _fresh_locale()
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="en"' in english and "Sign in" in english and "Iniciar sesión" not in english


def test_default_locale_is_spanish(client):
    page = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="es"' in page and "Contraseña" in page


def test_service_errors_are_shown_in_the_readers_language(app, people):
    from flask_babel import force_locale

    from helpdesk.errors import InvalidInput
    from helpdesk.users import services

    with pytest.raises(InvalidInput) as caught:
        services.create_user(people["admin"], username="x", password="irrelevant-pass")
    with app.test_request_context(), force_locale("es"):
        assert caught.value.message.startswith("Los nombres de usuario")
    with app.test_request_context(), force_locale("en"):
        assert caught.value.message.startswith("User names have")
    with pytest.raises(InvalidInput) as caught:
        services.create_user(people["admin"], username="carol", password="x")
    with app.test_request_context(), force_locale("es"):
        assert caught.value.message == "La contraseña debe tener al menos 8 caracteres."


def test_dates_and_numbers_follow_the_locale(app):
    from datetime import datetime, timezone

    from flask_babel import force_locale, format_decimal

    from helpdesk.templating import dt

    moment = datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc)
    with app.test_request_context(), force_locale("es"):
        assert "mar" in dt(moment) and "2026" in dt(moment)
        assert format_decimal(1234567.5) == "1.234.567,5"
    with app.test_request_context(), force_locale("en"):
        assert dt(moment).startswith("Mar 5, 2026")
        assert format_decimal(1234567.5) == "1,234,567.5"


def test_script_strings_are_rendered_translated(client):
    import json
    import re as _re

    html = client.get("/login", headers={"Accept-Language": "es"}).get_data(as_text=True)
    block = _re.search(
        r'<script type="application/json" id="i18n-strings">(.*?)</script>', html, _re.S
    )
    assert block is not None
    strings = json.loads(block.group(1))
    assert strings["saved"] == "Guardado." and strings["close"] == "Cerrar"


def test_form_errors_are_translated(client, people, category):
    client.login("alice")
    _fresh_locale()
    answer = client.post(
        "/tickets/new",
        data={"title": "", "description": "x", "category_id": category.id, "priority": "low"},
        headers={"Accept-Language": "es"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'aria-invalid="true"' in html and "Este campo es obligatorio." in html
