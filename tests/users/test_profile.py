"""Profile page, theme and language switches: service rules and the HTTP side."""

from __future__ import annotations

import pytest
from flask_babel import refresh

from helpdesk.errors import Conflict, InvalidInput, PermissionDenied
from helpdesk.extensions import db
from helpdesk.users import services
from helpdesk.users.models import User


def test_update_profile_changes_own_fields(people):
    alice = people["user"]
    services.update_profile(
        alice,
        alice,
        full_name="  Alice   Liddell ",
        email="alice@example.org",
        locale="en",
        theme="dark",
    )
    db.session.commit()
    fresh = db.session.get(User, alice.id)
    assert (fresh.full_name, fresh.email, fresh.locale, fresh.theme) == (
        "Alice Liddell",
        "alice@example.org",
        "en",
        "dark",
    )


def test_update_profile_keeps_unnamed_preferences(people):
    alice = people["user"]
    services.update_profile(alice, alice, locale="en", theme="dark")
    services.update_profile(alice, alice, theme="light")
    assert (alice.locale, alice.theme) == ("en", "light")
    services.update_profile(alice, alice, theme=None)
    assert alice.theme is None and alice.locale == "en"


def test_update_profile_rules(people):
    alice, bob = people["user"], people["user2"]
    with pytest.raises(PermissionDenied):
        services.update_profile(bob, alice, full_name="Mallory")
    with pytest.raises(InvalidInput):
        services.update_profile(alice, alice, locale="fr")
    with pytest.raises(InvalidInput):
        services.update_profile(alice, alice, theme="purple")
    with pytest.raises(InvalidInput):
        services.update_profile(alice, alice, email="not-an-address")
    services.update_profile(bob, bob, email="bob@example.org")
    with pytest.raises(Conflict):
        services.update_profile(alice, alice, email="BOB@example.org")
    # An administrator may fix someone's profile.
    services.update_profile(people["admin"], alice, full_name="Alice A.")
    assert alice.full_name == "Alice A."


def test_profile_page_saves(client, people):
    client.login("alice")
    page = client.get("/account/profile")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for field in ("full_name", "email", "locale", "theme"):
        assert f'id="{field}"' in html
    assert "/account/password" in html
    resp = client.post(
        "/account/profile",
        data={"full_name": "Alice L", "email": "a@example.org", "locale": "en", "theme": "dark"},
    )
    assert resp.status_code == 302
    refresh()
    after = client.get("/account/profile").get_data(as_text=True)
    assert 'lang="en"' in after and 'data-server-theme="dark"' in after
    assert "Your profile has been saved." in after


def test_profile_page_shows_inline_errors(client, people):
    client.login("alice")
    resp = client.post(
        "/account/profile", data={"full_name": "A", "email": "nope", "locale": "", "theme": ""}
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="email-errors"' in html and "is-invalid" in html


def test_theme_switch_is_saved_and_needs_csrf(client, people):
    client.login("alice")
    token = client.csrf_token()
    resp = client.post("/account/theme", json={"theme": "dark"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json() == {"theme": "dark"}
    assert db.session.get(User, people["user"].id).theme == "dark"
    refused = client.post("/account/theme", json={"theme": "light"})  # no token
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, people["user"].id).theme == "dark"


def test_theme_switch_requires_sign_in(client):
    resp = client.post(
        "/account/theme", json={"theme": "dark"}, headers={"X-CSRFToken": client.csrf_token()}
    )
    assert resp.status_code in (302, 401)


def test_language_switch_before_and_after_sign_in(client, people):
    resp = client.post("/account/language", data={"locale": "en", "next": "/login"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    refresh()
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    client.login("alice")
    client.post("/account/language", data={"locale": "es", "next": "https://evil.example/"})
    assert db.session.get(User, people["user"].id).locale == "es"
    refresh()
    assert 'lang="es"' in client.get("/").get_data(as_text=True)
    assert client.post("/account/language", data={"locale": "xx"}).status_code == 400


def test_language_switch_redirect_stays_on_site(client):
    resp = client.post("/account/language", data={"locale": "es", "next": "//evil.example/x"})
    assert resp.headers["Location"].endswith("/")
