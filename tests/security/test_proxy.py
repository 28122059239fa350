"""Behind a trusted proxy the audit log records the client's address, not nginx's;
without one configured, a forged X-Forwarded-For is ignored."""

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from tests.conftest import make_app


@pytest.mark.parametrize(("proxies", "expected"), [(1, "203.0.113.9"), (0, "127.0.0.1")])
def test_login_ip_follows_trusted_proxy_setting(database, tmp_path, proxies, expected):
    app = make_app(database, tmp_path, TRUSTED_PROXIES=proxies)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        client.post(
            "/login",
            data={"username": "nobody", "password": "wrong-password"},
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        ips = db.session.scalars(
            select(AuditLog.ip).where(AuditLog.action == "auth.login_failed")
        ).all()
        db.session.remove()
        db.engine.dispose()
    assert ips == [expected]


def _echo_app(database, tmp_path, proxies: int):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path, TRUSTED_PROXIES=proxies)

    @app.route("/__seen")
    def seen():  # type: ignore[no-untyped-def]
        from flask import jsonify, request

        return jsonify(host=request.host, scheme=request.scheme, ip=request.remote_addr)

    return app


SPOOF = {
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Port": "4443",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "198.51.100.7",
}


@pytest.mark.parametrize("proxies", [0, 1])
def test_only_for_and_proto_are_read_and_only_through_the_proxy_fix(database, tmp_path, proxies):  # type: ignore[no-untyped-def]
    app = _echo_app(database, tmp_path, proxies)
    seen = (
        app.test_client()
        .get(
            "/__seen",
            headers={"Host": "desk.example.org", **SPOOF},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        .json
    )
    assert seen["host"] == "desk.example.org"  # never the client's X-Forwarded-Host/Port
    if proxies:
        assert (seen["scheme"], seen["ip"]) == ("https", "198.51.100.7")
    else:
        assert (seen["scheme"], seen["ip"]) == ("http", "127.0.0.1")


def test_exactly_the_configured_hops(database, tmp_path):  # type: ignore[no-untyped-def]
    """A client-written X-Forwarded-For in front of nginx's own value is not believed."""
    app = _echo_app(database, tmp_path, 1)
    seen = (
        app.test_client()
        .get(
            "/__seen",
            headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.5"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        .json
    )
    assert seen["ip"] == "203.0.113.5"


def test_socket_origin_never_follows_raw_forwarded_headers():  # type: ignore[no-untyped-def]
    from helpdesk.realtime.permissions import origin_allowed

    environ = {
        "HTTP_HOST": "desk.example.org",
        "wsgi.url_scheme": "http",
        "HTTP_X_FORWARDED_HOST": "evil.example",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    assert origin_allowed("http://desk.example.org", environ, ())
    assert not origin_allowed("https://evil.example", environ, ())
    assert not origin_allowed("http://evil.example", environ, ())
    assert not origin_allowed("https://desk.example.org", environ, ())  # no ProxyFix said so


@pytest.mark.parametrize(("proxies", "accepted"), [(1, True), (0, False)])
def test_socket_behind_tls_proxy_uses_the_proxy_fixed_scheme(database, tmp_path, proxies, accepted):  # type: ignore[no-untyped-def]
    """A real server: the handshake carries nginx's X-Forwarded-Proto: https and the
    browser's https Origin. Trusted through ProxyFix it connects; untrusted it does not;
    a forged X-Forwarded-Host never makes a foreign origin acceptable."""
    import socketio as sio_client

    from tests.conftest import PASSWORD, serving
    from tests.realtime.helpers import http_login

    with serving(database, tmp_path, TRUSTED_PROXIES=proxies) as live:
        with live.app.app_context():
            from helpdesk.users.services import create_user

            create_user(None, username="alice", password=PASSWORD)
            db.session.commit()
            db.session.remove()
        session = http_login(live.url, "alice")
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        host = live.url.split("://", 1)[1]

        def connects(origin: str, **extra: str) -> bool:
            client = sio_client.Client(reconnection=False)
            headers = {"Cookie": cookie, "Origin": origin, "X-Forwarded-Proto": "https", **extra}
            try:
                client.connect(live.url, headers=headers, transports=["polling"], wait_timeout=10)
            except sio_client.exceptions.ConnectionError:
                return False
            client.disconnect()
            return True

        assert connects(f"https://{host}") is accepted
        assert not connects("https://evil.example", **{"X-Forwarded-Host": "evil.example"})
