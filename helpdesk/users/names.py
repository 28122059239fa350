"""One spelling per user name.

A name is normalised once, the same way when it is created and when someone signs in:
Unicode NFKC (full-width `ｕｓｅｒ３` becomes `user3`) then case folding, and only then
checked against the allowed pattern. Names that fail the pattern are refused before
any lookup, so an accented `úser3` can never reach a database collation that would call
it equal to `user3` (MySQL's `utf8mb4_unicode_ci` does); the column itself is compared
in binary on MySQL/MariaDB (migration 0010) so the database cannot disagree either.
"""

from __future__ import annotations

import re
import unicodedata

PATTERN = re.compile(r"[a-z0-9_.@-]{3,64}")


def normalize_username(raw: str | None) -> str:
    """The canonical spelling of `raw` (which may still break the pattern)."""
    return unicodedata.normalize("NFKC", raw or "").casefold().strip()


def valid_username(name: str) -> bool:
    """Whether an already-normalised name is one the desk can hold."""
    return PATTERN.fullmatch(name) is not None
