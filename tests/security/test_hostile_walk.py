"""Every route in url_map, signed in as each role, fed hostile input: never a 5xx.

Nothing here lists routes or parameters by hand. Routes come from the url_map; the
query and form parameters a route reads are learned by sending it a plain request
through a request class that records every key looked up. Each learned parameter is
then sent, one at a time, out-of-range ids, NUL and other control characters and
invalid UTF-8; each path id gets numbers beyond the column range; each POST gets
malformed bodies. A route or parameter added tomorrow is walked the same way.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from flask import url_for

from helpdesk.extensions import db
from helpdesk.inputs import CleanMultiDict, HelpdeskRequest
from tests.security.matrix import OBJECTS, build_world

PASSWORD = "Corr3ct-Horse-Battery"

# Sent percent-encoded as raw bytes: ids past 2^31, 2^63 and 2^64, a negative, far too
# many digits, NUL and C0 controls, invalid UTF-8, an unknown word (enum values).
HOSTILE_VALUES = [
    b"2147483648",
    b"9223372036854775808",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"9" * 5000,
    b"a\x00b",
    b"\x01\x02\x1b[0m",
    b"\xff\xfe\xc3(",
    b"zzz-unknown",
]
HOSTILE_PATH_IDS = ["2147483648", "9223372036854775808", "18446744073709551616", "9" * 5000]
HOSTILE_PATH_TEXT = ["%00", "%FF%FE", "a%01b", "x" * 400]


def _malformed_bodies(token: str) -> list[tuple[str, bytes]]:
    t = token.encode()
    return [
        (
            "multipart/form-data; boundary=XX",
            b"--XX\r\nContent-Disposition: garbage\r\n\r\n" + t + b"\r\n--XX--\r\n",
        ),
        (
            "multipart/form-data; boundary=XX",
            b'--XX\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + t,
        ),
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=XX", b"--XX\r\n\r\n\x00\xff--XX--"),
        ("application/x-www-form-urlencoded", b"csrf_token=" + t + b"&%FF%00=%00%FF&&=&"),
        ("application/json", b'{"theme": "\\u0000", "x": '),
        ("application/json", b"\xff\xfe{}"),
        ("text/plain; charset=nonsense", b"\x00" * 64),
    ]


class Recorder:
    keys: set[str] = set()


class RecordingDict(CleanMultiDict):
    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        Recorder.keys.add(key)
        return super().get(key, default, type) if type else super().get(key, default)

    def getlist(self, key: Any, type: Any = None) -> Any:  # noqa: A002
        Recorder.keys.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key: Any) -> Any:
        Recorder.keys.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        Recorder.keys.add(str(key))
        return super().__contains__(key)


class RecordingRequest(HelpdeskRequest):
    parameter_storage_class = RecordingDict


ROLE_KEYS = {"user": "user", "technician": "tech", "admin": "admin"}


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    app.request_class = RecordingRequest
    return build_world(uuid.uuid4().hex[:8], PASSWORD)


def _routes(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(app, rule, world, role: str) -> str:  # type: ignore[no-untyped-def]
    # The admin acts on another person's account (never deactivates itself).
    # An argument with no builder in OBJECTS (a route added since) still gets walked,
    # with id 1: hostile values matter here, not which object answers.
    values = {
        a: OBJECTS[a](world, role, a != "user_id") if a in OBJECTS else 1 for a in rule.arguments
    }
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _hostile_paths(rule) -> list[str]:  # type: ignore[no-untyped-def]
    """The rule's path with one argument at a time replaced by a hostile value."""
    from werkzeug.routing import IntegerConverter

    paths = []
    for name, converter in rule._converters.items():
        values = HOSTILE_PATH_IDS if isinstance(converter, IntegerConverter) else HOSTILE_PATH_TEXT
        for value in values:

            def fill(match, name=name, value=value):  # type: ignore[no-untyped-def]
                return value if match.group(1) == name else "1"

            paths.append(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, rule.rule))
    return paths


@pytest.mark.parametrize("role", ["anon", "user", "technician", "admin"])
def test_no_route_answers_5xx_to_hostile_input(app, world, role):  # type: ignore[no-untyped-def]
    client = app.test_client()
    username = None if role == "anon" else world.users[ROLE_KEYS[role]].username

    def sign_in() -> None:
        if username:
            client.get("/logout")
            response = client.login(username, PASSWORD)
            assert response.status_code == 302, "the walk needs a signed-in client"

    sign_in()
    failures: list[str] = []
    sent = 0

    def send(method: str, url: str, endpoint: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        nonlocal sent
        sent += 1
        try:
            response = client.open(url, method=method, **kwargs)
            # Read the whole body: a streamed export that fails after its first byte
            # is a cut-off download, as bad as a 500.
            response.get_data()
        except Exception as exc:  # noqa: BLE001 - a crash is exactly what is looked for
            failures.append(f"{method} {url[:120]} raised {type(exc).__name__}: {exc}"[:300])
            db.session.rollback()
            return None
        if response.status_code >= 500:
            failures.append(
                f"{method} {url[:120]} {kwargs.get('data', b'')[:80]!r} → {response.status_code}"
            )
        response.close()
        if endpoint in ("auth.logout", "auth.login"):
            sign_in()
        return response

    for rule, method in _routes(app):
        url = _url(app, rule, world, role)
        token = client.csrf_token()
        form = "application/x-www-form-urlencoded"
        Recorder.keys = set()
        if method == "GET":
            send(method, url, rule.endpoint)
        else:
            send(
                method, url, rule.endpoint, data=b"csrf_token=" + token.encode(), content_type=form
            )
        learned = sorted(k for k in Recorder.keys if isinstance(k, str) and k != "csrf_token")
        for key in learned:
            for value in HOSTILE_VALUES:
                pair = quote(key).encode() + b"=" + quote(value, safe="").encode()
                if method == "GET":
                    send(method, url + "?" + pair.decode(), rule.endpoint)
                else:
                    body = b"csrf_token=" + token.encode() + b"&" + pair
                    send(method, url, rule.endpoint, data=body, content_type=form)
        for path in _hostile_paths(rule):
            if method == "GET":
                send(method, path, rule.endpoint)
            else:
                send(
                    method,
                    path,
                    rule.endpoint,
                    data=b"csrf_token=" + token.encode(),
                    content_type=form,
                )
        if method != "GET":
            for content_type, body in _malformed_bodies(token):
                send(method, url, rule.endpoint, data=body, content_type=content_type)
    assert sent > 200
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:40])
