"""Matrix 10: an administrator sees where a person is signed in and signs them out
everywhere: every copied cookie is refused afterwards and the action is audited."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.audit.models import AuditLog
from helpdesk.auth.models import LoginSession
from helpdesk.extensions import db


def test_admin_lists_and_ends_every_session(app, people):  # type: ignore[no-untyped-def]
    browsers = []
    for agent in ("Firefox/140 on Linux", "Chromium/142 on a phone"):
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = agent
        assert c.login("alice").status_code == 302
        browsers.append(c)
    other = app.test_client()
    other.login("bob")
    boss = app.test_client()
    boss.login("boss")
    alice_id = people["user"].id
    page = boss.get(f"/admin/users/{alice_id}/sessions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Firefox/140 on Linux" in text and "Chromium/142 on a phone" in text
    assert text.count("<tr>") == 3  # header + two sessions; bob's is not listed
    ended = boss.post(f"/admin/users/{alice_id}/sessions/end")
    assert ended.status_code == 302
    for c in browsers:
        assert c.get("/").status_code == 302, "still signed in after sign out everywhere"
    assert other.get("/").status_code == 200  # only alice's sessions ended
    assert (
        db.session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == alice_id)
        )
        == 0
    )
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.signed_out_everywhere"))
    assert row is not None and row.actor_id == people["admin"].id and row.target_id == alice_id


def test_only_admins(app, people):  # type: ignore[no-untyped-def]
    tech = app.test_client()
    tech.login("tech")
    alice_id = people["user"].id
    assert tech.get(f"/admin/users/{alice_id}/sessions").status_code == 403
    assert tech.post(f"/admin/users/{alice_id}/sessions/end").status_code == 403
