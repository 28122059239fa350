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
