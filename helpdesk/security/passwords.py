"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

from helpdesk.errors import InvalidInput

# OWASP Password Storage Cheat Sheet baseline for Argon2id: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

MIN_LENGTH = 8
MIN_LENGTH_ADMIN = 12
MAX_LENGTH = 128

# A valid hash of a random password: verifying against it when the user does not
# exist keeps the timing of a failed login the same for known and unknown names.
_DUMMY_HASH = _hasher.hash("not-a-real-password-\u2603-dummy")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Lower-cased common passwords shipped as package data (one per line)."""
    try:
        text = resources.files("helpdesk").joinpath("data/common_passwords.txt").read_text("utf-8")
    except FileNotFoundError:
        return frozenset()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


# Words an attacker tries first against this desk (ASVS V6.2.11); organisations add
# their own with PASSWORD_CONTEXT_WORDS.
PRODUCT_WORDS = ("helpdesk", "help-desk", "soporte", "support")
MIN_CONTEXT_WORD = 3


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def context_words(username: str = "", email: str | None = None) -> list[str]:
    """The person's user name, the local part of their e-mail, and the desk's words."""
    words = [username, (email or "").partition("@")[0], *PRODUCT_WORDS]
    if has_app_context():
        extra = current_app.config.get("PASSWORD_CONTEXT_WORDS") or ()
        words += extra.split(",") if isinstance(extra, str) else list(extra)
    folded = {_fold(w).strip() for w in words}
    return sorted(w for w in folded if len(w) >= MIN_CONTEXT_WORD)


def check_password_policy(
    password: str, *, admin: bool = False, username: str = "", email: str | None = None
) -> None:
    """Raise InvalidInput naming what is wrong with `password`."""
    minimum = MIN_LENGTH_ADMIN if admin else MIN_LENGTH
    if len(password) < minimum:
        raise InvalidInput(
            "The password must have at least %(n)s characters.", n=minimum, field="password"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            "The password must have at most %(n)s characters.", n=MAX_LENGTH, field="password"
        )
    lowered = password.lower()
    if lowered in common_passwords():
        raise InvalidInput(
            "This password is too common; choose one that is harder to guess.",
            field="password",
        )
    if username and lowered == username.lower():
        raise InvalidInput("The password must not be the user name.", field="password")
    folded = _fold(password)
    for word in context_words(username, email):
        if word in folded:
            raise InvalidInput(
                "The password must not contain “%(word)s”: user names, e-mail names and "
                "the desk's own name are the first things an attacker tries.",
                word=word,
                field="password",
            )
