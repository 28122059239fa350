"""Matrix 1 (authorisation) and 2 (CSRF), generated from app.url_map.

Every route × anonymous/user/technician/admin × own/foreign object must answer as its
line in tests/security/matrix.py ROUTES says; a route without a line fails here with the
line to add. Denied state-changing requests must leave every table unchanged.
"""

from __future__ import annotations

import itertools

from tests.conftest import PASSWORD
from tests.security.matrix import (
    ROLES,
    ROUTES,
    STATE_CHANGING,
    build_url,
    build_world,
    classify,
    expectation,
    fill,
    routes,
    sign_in,
    snapshot,
)

_counter = itertools.count()


def test_every_route_has_a_matrix_entry(app):  # type: ignore[no-untyped-def]
    served = {(endpoint, method): rule for endpoint, method, _, rule in routes(app)}
    missing = sorted(set(served) - set(ROUTES))
    assert not missing, (
        "routes without an authorisation-matrix entry; add to ROUTES in "
        "tests/security/matrix.py:\n"
        + "\n".join(
            f'    ("{e}", "{m}"): E("L AA AA AA"),  # {m} {served[(e, m)]} — fix the letters'
            for e, m in missing
        )
    )
    stale = sorted(set(ROUTES) - set(served))
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def _request(client, method: str, url: str, entry, world):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url)
    if entry.json is not None:
        return client.open(
            url, method=method, json=entry.json, headers={"X-CSRFToken": client.csrf_token()}
        )
    return client.open(
        url, method=method, data={**fill(entry.data, world), "csrf_token": client.csrf_token()}
    )


def _cells():  # type: ignore[no-untyped-def]
    for role in ROLES:
        for own in (True, False) if role != "anon" else (True,):
            yield role, own


def _client(app, world, role):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role != "anon":
        sign_in(client, world.user(role))
    return client


def _check_cell(app, world, endpoint, method, arguments, role, own, client=None):  # type: ignore[no-untyped-def]
    entry = ROUTES[(endpoint, method)]
    expected = expectation(entry, role, own)
    url = build_url(app, endpoint, arguments, world, role, own)
    client = client or _client(app, world, role)
    before = snapshot() if method in STATE_CHANGING and expected != "A" else None
    response = _request(client, method, url, entry, world)
    got = classify(response)
    where = f"{method} {url} ({endpoint}) as {role} on {'own' if own else 'foreign'} object"
    assert got == expected, f"{where}: expected {expected}, got {got} (HTTP {response.status_code})"
    if before is not None:
        assert snapshot() == before, f"{where}: refused ({response.status_code}) but data changed"
    return 1


def test_read_matrix(app):  # type: ignore[no-untyped-def]
    """GET routes: one shared world (reads change nothing)."""
    world = build_world(f"r{next(_counter)}", PASSWORD)
    clients = {role: _client(app, world, role) for role in ROLES}
    cells = 0
    for endpoint, method, arguments, _ in routes(app):
        if method != "GET" or (endpoint, method) not in ROUTES:
            continue
        for role, own in _cells():
            client = clients[role]
            cells += _check_cell(app, world, endpoint, method, arguments, role, own, client)
    print(f"authorisation matrix (GET): {cells} cells")
    assert cells > 50


def _write_routes():  # type: ignore[no-untyped-def]
    return sorted(k for k in ROUTES if k[1] in STATE_CHANGING)


def test_write_matrix(app):  # type: ignore[no-untyped-def]
    failures = []
    cells = 0
    for endpoint, method in _write_routes():
        try:
            cells += _write_route(app, endpoint, method)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    print(f"authorisation matrix (state-changing): {cells} cells")
    assert not failures, "\n".join(failures)


def _write_route(app, endpoint, method) -> int:  # type: ignore[no-untyped-def]
    """State-changing routes. Refused cells run first on one world (they are checked to
    change nothing); every authorised cell after the first gets a fresh world, so one
    cell's success cannot change what the next one sees."""
    entry = ROUTES[(endpoint, method)]
    arguments = next(a for e, m, a, _ in routes(app) if (e, m) == (endpoint, method))
    cells = sorted(_cells(), key=lambda c: expectation(entry, *c) == "A")
    world = build_world(f"w{next(_counter)}", PASSWORD)
    pristine = True
    for role, own in cells:
        if expectation(entry, role, own) == "A":
            if not pristine:
                world = build_world(f"w{next(_counter)}", PASSWORD)
            pristine = False
        _check_cell(app, world, endpoint, method, arguments, role, own)
    return len(cells)


# ------------------------------------------------------------------ CSRF (matrix 2)


def test_csrf_matrix(app):  # type: ignore[no-untyped-def]
    failures = []
    for endpoint, method in _write_routes():
        try:
            _csrf_route(app, endpoint, method)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    print(f"CSRF matrix: {len(_write_routes())} routes x {len(ROLES)} roles")
    assert not failures, "\n".join(failures)


def _csrf_route(app, endpoint, method) -> None:  # type: ignore[no-untyped-def]
    """Without a token → 400 and nothing changes (for every role); with a valid token
    (form field, or X-CSRFToken header for fetch) → not 400."""
    arguments = next(a for e, m, a, _ in routes(app) if (e, m) == (endpoint, method))
    entry = ROUTES[(endpoint, method)]
    world = build_world(f"c{next(_counter)}", PASSWORD)
    for role in ROLES:
        url = build_url(app, endpoint, arguments, world, role, True)
        client = _client(app, world, role)
        before = snapshot()
        data = fill(entry.data, world)
        no_token = client.open(url, method=method, data=data)
        assert no_token.status_code == 400, f"{method} {url} as {role} without CSRF token"
        wrong = client.open(url, method=method, data={**data, "csrf_token": "forged"})
        assert wrong.status_code == 400, f"{method} {url} as {role} with a forged token"
        assert snapshot() == before, f"{method} {url} as {role}: changed data without a token"
    # with a valid token, as the role the route is for
    role = (
        next(
            r for r in ("admin", "technician", "user", "anon") if expectation(entry, r, True) == "A"
        )
        if "A" in entry.expect
        else "admin"
    )
    url = build_url(app, endpoint, arguments, world, role, True)
    client = _client(app, world, role)
    ok = client.open(
        url, method=method, data={**fill(entry.data, world), "csrf_token": client.csrf_token()}
    )
    assert ok.status_code != 400 or b"form expired" not in ok.data, f"{method} {url}: token refused"
    header = client.open(
        url,
        method=method,
        data=fill(entry.data, world),
        headers={"X-CSRFToken": client.csrf_token()},
    )
    assert b"sent from elsewhere" not in header.data, f"{method} {url}: X-CSRFToken refused"


def test_token_of_another_session_is_refused(app, people):  # type: ignore[no-untyped-def]
    mallory, alice = app.test_client(), app.test_client()
    mallory.login("bob")
    alice.login("alice")
    stolen = mallory.csrf_token()
    r = alice.post("/tickets/new", data={"title": "x", "csrf_token": stolen})
    assert r.status_code == 400


def test_no_state_change_on_get(app):  # type: ignore[no-untyped-def]
    """Every GET route, as every role, leaves the data as it was."""
    world = build_world(f"g{next(_counter)}", PASSWORD)
    for role in ROLES:
        client = _client(app, world, role)
        before = snapshot()
        for endpoint, method, arguments, _ in routes(app):
            if method == "GET":
                client.get(build_url(app, endpoint, arguments, world, role, True))
        assert snapshot() == before, f"a GET changed data (as {role})"
