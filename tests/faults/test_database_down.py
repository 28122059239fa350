"""The database is not there: every page answers 503 + Retry-After with a page that
needs no database (es/en), and /healthz names what is down.

The outage is real: the app points at a port where no server listens (MariaDB,
PostgreSQL) or at a file that cannot be opened (SQLite); the signed-in cookie comes
from the same app served with its working database.
"""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from helpdesk.extensions import db
from tests.conftest import PASSWORD, backend, make_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unreachable_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    kind = backend()
    if kind == "mysql":
        return f"mysql+pymysql://root@127.0.0.1:{_free_port()}/helpdesk"
    if kind == "postgresql":
        return f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/postgres"
    return f"sqlite:///{(tmp_path / 'no-such-dir' / 'gone.db').as_posix()}"


@pytest.fixture
def outage(app, make_user, tmp_path):  # type: ignore[no-untyped-def]
    """(client signed in against the working app, the same app with its database gone)."""
    make_user("technician", "tech")
    working = app.test_client()
    assert working.login("tech").status_code == 302
    cookie = working.get_cookie("session")
    gone_db = SimpleNamespace(url=_unreachable_url(tmp_path))
    broken = make_app(gone_db, tmp_path, SECRET_KEY=app.config["SECRET_KEY"])
    client = broken.test_client()
    client.set_cookie(cookie.key, cookie.value)
    with broken.app_context():
        yield client
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/tickets", "/tickets/1", "/chat", "/reports"])
def test_pages_answer_503_with_retry_after(outage, path):  # type: ignore[no-untyped-def]
    resp = outage.get(path)
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) > 0
    assert "briefly unavailable" in resp.get_data(as_text=True)


def test_a_write_answers_503_and_says_to_check_before_retrying(outage):  # type: ignore[no-untyped-def]
    resp = outage.post("/tickets/new", data={"title": "x", "description": "y"})
    assert resp.status_code == 503
    assert "check it in a moment" in resp.get_data(as_text=True)


def test_the_page_is_in_spanish_for_a_spanish_browser(outage):  # type: ignore[no-untyped-def]
    resp = outage.get("/tickets", headers={"Accept-Language": "es"})
    assert resp.status_code == 503
    body = resp.get_data(as_text=True)
    assert 'lang="es"' in body
    assert "no está disponible" in body


def test_json_callers_get_json(outage):  # type: ignore[no-untyped-def]
    resp = outage.get("/notifications/count", headers={"Accept": "application/json"})
    assert resp.status_code == 503
    assert resp.get_json()["error"] == 503


def test_sign_in_answers_503(app, tmp_path):  # type: ignore[no-untyped-def]
    gone_db = SimpleNamespace(url=_unreachable_url(tmp_path))
    broken = make_app(gone_db, tmp_path)
    with broken.app_context():
        client = broken.test_client()
        resp = client.post("/login", data={"username": "tech", "password": PASSWORD})
        assert resp.status_code == 503
        db.session.remove()
        db.engine.dispose()


def test_healthz_names_the_database(outage):  # type: ignore[no-untyped-def]
    resp = outage.get("/healthz")
    assert resp.status_code == 503
    data = resp.get_json()
    assert data["status"] == "fail"
    assert data["down"] == ["database"]
    assert data["database"].startswith("down: ")


def test_healthz_says_redis_is_down_but_pages_still_work(database, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path)
    # Set after start-up: given to create_app it would also become the Socket.IO
    # message queue of the process-wide extension, which later tests' clients refuse.
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    with app.app_context():
        db.create_all()
        resp = app.test_client().get("/healthz")
        assert resp.status_code == 200
        data = resp.get_json()
        assert (data["status"], data["database"], data["down"]) == ("degraded", "ok", ["redis"])
        assert data["redis"].startswith("down: ")
        db.session.remove()
        db.engine.dispose()
