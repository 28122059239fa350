"""Audit log: sign-ins (with IP), failures, lock-outs, logouts, role changes, password
resets, (de)activation and exports are recorded; admins filter by action, family,
person, IP and dates."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from helpdesk.audit.models import AuditLog
from helpdesk.extensions import db
from tests.conftest import make_app


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_security_events_are_recorded_and_filterable(app, people):  # type: ignore[no-untyped-def]
    admin, other = app.test_client(), app.test_client()
    other.login("alice", "wrong-password")
    other.login("alice")
    other.post("/logout")
    admin.login("boss")
    uid = people["user2"].id
    admin.post(f"/admin/users/{uid}", data={"full_name": "Bob", "email": "", "role": "technician"})
    admin.post(f"/admin/users/{uid}/password", data={"reset-password": "Temporary-Pass-42"})
    admin.post(f"/admin/users/{uid}/active", data={"active": "0"})
    admin.post(f"/admin/users/{uid}/active", data={"active": "1"})
    admin.get("/reports/export.csv")
    actions = _actions()
    for expected in (
        "auth.login_failed",
        "auth.login",
        "auth.logout",
        "user.role_changed",
        "user.password_reset",
        "user.deactivated",
        "user.activated",
        "report.export",
    ):
        assert expected in actions, (expected, actions)
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action.like("auth.%"))).all()
    assert rows and all(r.ip == "127.0.0.1" for r in rows)

    def page(**args: str) -> str:
        r = admin.get("/admin/audit", query_string=args)
        assert r.status_code == 200
        # only the table rows (the filter's <select> lists every action)
        return " ".join(re.findall(r"<code>([^<]+)</code>", r.get_data(as_text=True)))

    only_failed = page(action="auth.login_failed")
    assert "auth.login_failed" in only_failed and "user.role_changed" not in only_failed
    family = page(action="auth.")
    assert "auth.logout" in family and "user.deactivated" not in family
    by_alice = page(actor="alice", action="auth.")
    assert "auth.logout" in by_alice and "report.export" not in by_alice
    by_boss = page(actor="BOSS")
    assert "user.password_reset" in by_boss and "auth.logout" not in by_boss
    today = date.today()
    assert "user.activated" in page(
        since=(today - timedelta(days=1)).isoformat(), until=today.isoformat()
    )
    assert "user.activated" not in page(until=(today - timedelta(days=2)).isoformat())
    assert "user.activated" not in page(ip="10.9.9.9")
    assert admin.get("/admin/audit?since=yesterday").status_code == 400


def test_lockout_is_recorded(database, tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(database, tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        for _ in range(7):
            client.login("nobody", "wrong-password")
        locked = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "auth.locked_out")
        ).all()
        assert locked and locked[0].ip == "127.0.0.1" and "nobody" in locked[0].detail
        db.session.remove()
        db.engine.dispose()
