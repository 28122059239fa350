"""Secrets stored for mailboxes and the relay: Fernet with a key derived from
SECRET_KEY (HKDF-SHA256), or from MAIL_ENCRYPTION_KEY when that is set (so the
mail passwords survive a change of SECRET_KEY)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from helpdesk.errors import InvalidInput


def _fernet() -> Fernet:
    secret = current_app.config.get("MAIL_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"helpdesk-mail", info=b"mail-passwords"
    ).derive(str(secret).encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(password: str) -> str:
    return _fernet().encrypt(password.encode("utf-8")).decode("ascii") if password else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise InvalidInput(
            "The stored mail password cannot be read (was SECRET_KEY or "
            "MAIL_ENCRYPTION_KEY changed?); enter the password again."
        ) from None
