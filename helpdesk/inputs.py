"""Hostile input stopped at one place: ids bounded to the column range, text cleaned.

Every id column is a 32-bit integer on PostgreSQL and MariaDB (and 64-bit on SQLite):
a larger number reaching a query is a driver error (OverflowError, "out of range"),
i.e. a 500. So ids are bounded where they are parsed: the `int` route converter,
query and form parameters and cursors (`id_arg`, `valid_id`).

Text: PostgreSQL refuses NUL in text, and other C0 control characters are never
meant in a title, comment or user name. Every query-string and form value is cleaned
as the request parses it (`CleanMultiDict`), so no view has to remember; socket and
mail entry points call `clean_text` themselves.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Map

# The smallest id column in the three databases: INTEGER on PostgreSQL / MariaDB.
MAX_ID = 2**31 - 1

# C0 controls except tab, line feed and carriage return (forms send CRLF).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_text(value: str) -> str:
    """`value` without NUL and the other C0 control characters (tab and newlines kept)."""
    return _CONTROLS.sub("", value)


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def id_arg(raw: str) -> int:
    """`request.args.get(name, type=id_arg)`: a bad or out-of-range id reads as absent."""
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
    if not valid_id(value):
        raise ValueError(raw)
    return value


class IdConverter(IntegerConverter):
    """The `int` route converter, bounded to the id range: anything else is a 404."""

    regex = r"\d{1,10}"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:  # fmt: skip
        super().__init__(map, fixed_digits, 1 if min is None else min,
                         MAX_ID if max is None else max, signed)  # fmt: skip


class CleanMultiDict(ImmutableMultiDict):
    """Query-string and form values cleaned as they are parsed.

    A multipart part without a name (``Content-Disposition: garbage``) has the key
    None; it is dropped here rather than crash whoever reads the form (the CSRF check).
    """

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            super().__init__()
            return
        if isinstance(mapping, dict) and not hasattr(mapping, "getlist"):
            items = [(k, v) for k, vs in mapping.items() for v in _as_list(vs)]
        elif hasattr(mapping, "items") and hasattr(mapping, "getlist"):
            items = list(mapping.items(multi=True))
        else:
            items = list(mapping)
        super().__init__(
            [
                (clean_text(k), clean_text(v) if isinstance(v, str) else v)
                for k, v in items
                if isinstance(k, str)
            ]
        )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class HelpdeskRequest(Request):
    parameter_storage_class = CleanMultiDict
