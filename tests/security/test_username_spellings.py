"""Matrix 5b: one account, one spelling. Full-width, upper-case, accented and padded
spellings of a locked user name neither sign in nor get fresh guesses; MySQL/MariaDB's
case- and accent-insensitive collation cannot call two names equal (the column is
binary there)."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from helpdesk.errors import Conflict, InvalidInput
from helpdesk.extensions import db
from helpdesk.users import services as users
from helpdesk.users.models import User
from tests.conftest import PASSWORD, backend, make_app

# spellings that NFKC + case folding turn into "user3": the same account
SAME = ["USER3", "User3", "user\u00b3", "\uff55\uff53\uff45\uff52\uff13", " user3 ", "\uff35SER3"]
# spellings a `_unicode_ci` collation calls equal to "user3" but which are no name at all
FOREIGN = ["\u00faser3", "u\u0301ser3", "\u00fcser3", "us\u0435r3", "user3\u200b"]


def _create(username: str = "user3") -> User:
    user = users.create_user(None, username=username, password=PASSWORD, role="user")
    db.session.commit()
    return user


def test_a_locked_name_stays_locked_under_every_spelling(limited_app):  # type: ignore[no-untyped-def]
    _create()
    client = limited_app.test_client()
    codes = [client.login("user3", "wrong-password-1").status_code for _ in range(5)]
    assert codes == [401] * 5
    for spelling in SAME:
        answer = limited_app.test_client().login(spelling, PASSWORD)
        assert answer.status_code == 429, (spelling, answer.status_code)
    for spelling in FOREIGN:
        fresh = limited_app.test_client()
        answer = fresh.login(spelling, PASSWORD)
        assert answer.status_code == 401, (spelling, answer.status_code)
        assert fresh.get("/").status_code == 302, f"{spelling!r} signed in"


def test_other_spellings_never_sign_in_even_unlocked(app, client):  # type: ignore[no-untyped-def]
    _create()
    for spelling in FOREIGN:
        assert client.login(spelling, PASSWORD).status_code == 401, spelling
        assert client.get("/").status_code == 302, f"{spelling!r} signed in"
    # the canonical spellings are the account itself
    assert client.login("\uff55\uff53\uff45\uff52\uff13", PASSWORD).status_code == 302


def test_names_are_stored_normalised_and_unique(app):  # type: ignore[no-untyped-def]
    assert _create("\uff21\uff2c\uff29\uff23\uff25").username == "alice"
    with pytest.raises(Conflict):
        _create("Alice")
    for bad in ("\u00e1lice", "al", "a" * 65, "al ice", "al<i>ce", "\u0430lice"):
        with pytest.raises(InvalidInput):
            users.create_user(None, username=bad, password=PASSWORD)
    assert users.find_by_username("ALICE").username == "alice"
    assert users.find_by_username("\u00e1lice") is None


@pytest.mark.skipif(backend() != "mysql", reason="MySQL/MariaDB collation")
def test_mysql_compares_user_names_in_binary(app):  # type: ignore[no-untyped-def]
    _create()
    collation = db.session.scalar(
        text(
            "SELECT collation_name FROM information_schema.columns WHERE "
            "table_schema = DATABASE() AND table_name = 'users' AND column_name = 'username'"
        )
    )
    assert collation == "utf8mb4_bin"
    # the database itself no longer calls the accented spelling equal
    assert db.session.scalar(select(User.id).where(User.username == "\u00faser3")) is None


def test_migration_lower_cases_existing_names(database, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path)
    with app.app_context():
        upgrade(revision="0009")
        db.session.execute(
            text(
                "INSERT INTO users (username, full_name, role, password_hash, active, "
                "must_change_password, session_version, created_at) VALUES "
                "('MixedCase', '', 'user', 'x', :t, :f, 1, CURRENT_TIMESTAMP)"
            ),
            {"t": True, "f": False},
        )
        db.session.commit()
        upgrade()
        assert db.session.scalar(text("SELECT username FROM users")) == "mixedcase"
        if backend() == "mysql":
            collation = db.session.scalar(
                text(
                    "SELECT collation_name FROM information_schema.columns WHERE table_schema"
                    " = DATABASE() AND table_name = 'users' AND column_name = 'username'"
                )
            )
            assert collation == "utf8mb4_bin"
        db.session.remove()
        db.engine.dispose()
