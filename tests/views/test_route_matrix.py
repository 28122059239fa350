"""Every ticket, attachment and admin route × every role × own/foreign object.

The list of routes comes from the app's url_map: a new route under /tickets,
/attachments or /admin without an entry in MATRIX fails `test_matrix_covers_every_route`.
Each answer is also checked for data the role must not see (titles of tickets it
cannot view, internal notes and their files).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image

from helpdesk.attachments.services import Upload, ticket_attachments
from helpdesk.extensions import db
from helpdesk.tickets import services
from tests.conftest import PASSWORD

PREFIXES = ("/tickets", "/attachments", "/admin")

# role → (username, which ticket the role acts on). Alice requests both tickets;
# T1 is assigned to "tech", T2 waits unassigned in the queue.
ROLES: dict[str, tuple[str | None, str]] = {
    "anon": (None, "t1"),
    "admin": ("boss", "t1"),
    "tech_assigned": ("tech", "t1"),
    "tech_other": ("tech2", "t1"),
    "tech_queue": ("tech2", "t2"),
    "requester": ("alice", "t1"),
    "other_user": ("bob", "t1"),
}
SEES = {  # username → tickets visible to them
    None: set(),
    "boss": {"t1", "t2"},
    "tech": {"t1", "t2"},
    "tech2": {"t2"},
    "alice": {"t1", "t2"},
    "bob": set(),
}
STAFF = {"boss", "tech", "tech2"}


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Scene:
    ids: dict[str, int] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)


def build_scene(people, category, make_user) -> Scene:
    """Fresh objects, so an earlier request's change never decides a later answer."""
    tag = uuid.uuid4().hex[:8]
    scene = Scene()
    alice, admin, tech = people["user"], people["admin"], people["tech"]
    for key in ("t1", "t2"):
        title = f"{key.upper()}-TITLE-{tag}"
        ticket = services.create_ticket(
            alice,
            title=title,
            description=f"{key.upper()}-DESC-{tag}",
            category_id=category.id,
            uploads=[Upload(f"{key}-public-{tag}.png", io.BytesIO(png_bytes()))],
        )
        if key == "t1":
            services.assign_ticket(admin, ticket, tech.id)
        services.add_comment(
            admin,
            ticket,
            f"{key.upper()}-NOTE-{tag}",
            internal=True,
            uploads=[Upload(f"{key}-internal-{tag}.png", io.BytesIO(png_bytes()))],
        )
        db.session.flush()
        files = ticket_attachments(admin, ticket)
        scene.ids[key] = ticket.id
        scene.ids[f"{key}_public"] = next(a.id for a in files if not a.internal)
        scene.ids[f"{key}_internal"] = next(a.id for a in files if a.internal)
        scene.markers[f"{key}_title"] = title
        scene.markers[f"{key}_desc"] = f"{key.upper()}-DESC-{tag}"
        scene.markers[f"{key}_note"] = f"{key.upper()}-NOTE-{tag}"
        scene.markers[f"{key}_internal_file"] = f"{key}-internal-{tag}.png"
    scene.ids["category"] = services.create_category(None, f"Spare {tag}").id
    scene.ids["other_category"] = services.create_category(None, f"Other {tag}").id
    scene.ids["target_user"] = people["user2"].id
    scene.ids["tech2"] = people["tech2"].id
    from datetime import date

    from helpdesk.sla import services as sla

    policy = sla.ensure_defaults()
    scene.ids["sla_policy"] = policy.id
    scene.ids["sla_calendar"] = policy.calendar_id
    holiday = next((h for h in policy.calendar.holidays if h.day == date(2026, 1, 1)), None)
    holiday = holiday or sla.add_holiday(None, policy.calendar_id, day=date(2026, 1, 1))
    scene.ids["sla_holiday"] = holiday.id
    scene.markers["tag"] = tag
    db.session.commit()
    return scene


@dataclass
class Case:
    method: str
    url: Any  # callable(scene, ticket_key) -> str
    expect: dict[str, int | str]  # role -> status; "login" = redirect to the login page
    data: Any = None  # callable(scene) -> dict


def _t(path: str):
    return lambda s, k: path.format(id=s.ids[k])


def _viewers(ok: int, *, queue: int | None = None, requester: int | None = None, assigned=None):
    """Expectations for a ticket action: who can see T1/T2 and what they get."""
    return {
        "anon": "login",
        "admin": ok,
        "tech_assigned": ok if assigned is None else assigned,
        "tech_other": 404,
        "tech_queue": ok if queue is None else queue,
        "requester": ok if requester is None else requester,
        "other_user": 404,
    }


ALL_LOGGED_IN = {r: 200 for r in ROLES if r != "anon"} | {"anon": "login"}
ADMIN_ONLY_GET = {r: 403 for r in ROLES} | {"admin": 200, "anon": "login"}
ADMIN_ONLY_POST = {r: 403 for r in ROLES} | {"admin": 302, "anon": "login"}
ADMIN_INDEX = {r: 403 for r in ROLES} | {"admin": 302, "anon": "login"}
ADMIN_404 = {r: 403 for r in ROLES} | {"admin": 404, "anon": "login"}

# (endpoint, method, variant) → Case
MATRIX: dict[tuple[str, str, str], Case] = {
    ("tickets.index", "GET", ""): Case("GET", lambda s, k: "/tickets", ALL_LOGGED_IN),
    ("tickets.new", "GET", ""): Case("GET", lambda s, k: "/tickets/new", ALL_LOGGED_IN),
    ("tickets.new", "POST", ""): Case(
        "POST",
        lambda s, k: "/tickets/new",
        {r: 302 for r in ROLES} | {"anon": "login"},
        lambda s: {
            "title": "Brand new",
            "description": "d",
            "category_id": s.ids["category"],
            "priority": "low",
        },
    ),
    ("tickets.detail", "GET", ""): Case("GET", _t("/tickets/{id}"), _viewers(200)),
    ("tickets.comment", "POST", "public"): Case(
        "POST", _t("/tickets/{id}/comments"), _viewers(302), lambda s: {"body": "hello"}
    ),
    ("tickets.comment", "POST", "internal"): Case(
        "POST",
        _t("/tickets/{id}/comments"),
        _viewers(302, requester=403),
        lambda s: {"body": "staff only", "internal": "y"},
    ),
    ("tickets.take", "POST", ""): Case(
        "POST", _t("/tickets/{id}/take"), _viewers(409, queue=302, requester=403)
    ),
    ("tickets.status", "POST", "waiting"): Case(
        "POST",
        _t("/tickets/{id}/status"),
        _viewers(302, queue=403, requester=403),
        lambda s: {"status": "waiting"},
    ),
    ("tickets.status", "POST", "close"): Case(
        "POST",
        _t("/tickets/{id}/status"),
        _viewers(302, queue=403),
        lambda s: {"status": "closed"},
    ),
    ("tickets.priority", "POST", ""): Case(
        "POST",
        _t("/tickets/{id}/priority"),
        _viewers(302, queue=403, requester=403),
        lambda s: {"priority": "urgent"},
    ),
    ("tickets.category", "POST", ""): Case(
        "POST",
        _t("/tickets/{id}/category"),
        _viewers(302, queue=403, requester=403),
        lambda s: {"category_id": s.ids["other_category"]},
    ),
    ("tickets.assign", "POST", ""): Case(
        "POST",
        _t("/tickets/{id}/assign"),
        _viewers(302, queue=403, requester=403, assigned=403),
        lambda s: {"assignee_id": s.ids["tech2"]},
    ),
    ("attachments.download", "GET", "public"): Case(
        "GET", lambda s, k: f"/attachments/{s.ids[k + '_public']}", _viewers(200)
    ),
    ("attachments.download", "GET", "internal"): Case(
        "GET", lambda s, k: f"/attachments/{s.ids[k + '_internal']}", _viewers(200, requester=404)
    ),
    ("admin.index", "GET", ""): Case("GET", lambda s, k: "/admin/", ADMIN_INDEX),
    ("admin.users_list", "GET", ""): Case("GET", lambda s, k: "/admin/users", ADMIN_ONLY_GET),
    ("admin.user_new", "GET", ""): Case("GET", lambda s, k: "/admin/users/new", ADMIN_ONLY_GET),
    ("admin.user_new", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/users/new",
        ADMIN_ONLY_POST,
        lambda s: {
            "username": f"new{s.markers['tag']}",
            "role": "user",
            "password": "A-l0ng-temporary-pass",
        },
    ),
    ("admin.user_edit", "GET", ""): Case(
        "GET", lambda s, k: f"/admin/users/{s.ids['target_user']}", ADMIN_ONLY_GET
    ),
    ("admin.user_edit", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/users/{s.ids['target_user']}",
        ADMIN_ONLY_POST,
        lambda s: {"full_name": "Robert", "email": "", "role": "user"},
    ),
    ("admin.user_reset_password", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/users/{s.ids['target_user']}/password",
        ADMIN_ONLY_POST,
        lambda s: {"reset-password": "An0ther-temporary-pass"},
    ),
    ("admin.user_set_active", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/users/{s.ids['target_user']}/active",
        ADMIN_ONLY_POST,
        lambda s: {"active": "0"},
    ),
    ("admin.user_sessions", "GET", ""): Case(
        "GET", lambda s, k: f"/admin/users/{s.ids['target_user']}/sessions", ADMIN_ONLY_GET
    ),
    ("admin.user_sessions_end", "POST", ""): Case(
        "POST", lambda s, k: f"/admin/users/{s.ids['target_user']}/sessions/end", ADMIN_ONLY_POST
    ),
    ("twofactor.admin_requirement", "GET", ""): Case(
        "GET", lambda s, k: "/admin/two-factor", ADMIN_ONLY_GET
    ),
    ("twofactor.admin_requirement", "POST", ""): Case(
        "POST", lambda s, k: "/admin/two-factor", ADMIN_ONLY_POST, lambda s: {"required": ""}
    ),
    ("twofactor.admin_reset", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/users/{s.ids['target_user']}/two-factor/reset",
        ADMIN_ONLY_POST,
    ),
    ("admin.categories", "GET", ""): Case("GET", lambda s, k: "/admin/categories", ADMIN_ONLY_GET),
    ("admin.categories", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/categories",
        ADMIN_ONLY_POST,
        lambda s: {"name": f"Cat {s.markers['tag']}", "description": "", "active": "y"},
    ),
    ("admin.category_edit", "GET", ""): Case(
        "GET", lambda s, k: f"/admin/categories/{s.ids['category']}", ADMIN_ONLY_GET
    ),
    ("admin.category_edit", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/categories/{s.ids['category']}",
        ADMIN_ONLY_POST,
        lambda s: {"name": f"Renamed {s.markers['tag']}", "description": "", "active": "y"},
    ),
    ("admin.category_delete", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/categories/{s.ids['category']}/delete",
        ADMIN_ONLY_POST,
    ),
    ("audit.index", "GET", ""): Case("GET", lambda s, k: "/admin/audit", ADMIN_ONLY_GET),
    ("privacy.export", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/users/{s.ids['target_user']}/personal-data",
        {**ADMIN_ONLY_POST, "admin": 200},
    ),
    ("privacy.erase", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/users/{s.ids['target_user']}/erase",
        ADMIN_ONLY_POST,
        lambda s: {"confirm": "not the name", "mode": "anonymise"},
    ),
    ("desk.branding", "GET", ""): Case("GET", lambda s, k: "/admin/branding", ADMIN_ONLY_GET),
    ("desk.branding", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/branding",
        ADMIN_ONLY_POST,
        lambda s: {"name": f"Desk {s.markers['tag']}", "color": "#14532d"},
    ),
    # Mail settings (ids that do not exist: the admin gets 404, everyone else 403 first).
    ("mail.index", "GET", ""): Case("GET", lambda s, k: "/admin/mail", ADMIN_ONLY_GET),
    ("mail.relay_save", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/mail/relay",
        ADMIN_ONLY_POST,
        lambda s: {
            "host": "127.0.0.1",
            "port": "25",
            "security": "plain",
            "from_address": "desk@example.org",
        },  # fmt: skip
    ),
    ("mail.relay_test", "POST", ""): Case(
        "POST", lambda s, k: "/admin/mail/relay/test", ADMIN_ONLY_POST
    ),
    ("mail.mailbox_edit", "GET", ""): Case(
        "GET", lambda s, k: "/admin/mail/mailboxes/new", ADMIN_ONLY_GET
    ),
    ("mail.mailbox_edit", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/mail/mailboxes/new",
        ADMIN_ONLY_POST,
        lambda s: {
            "name": f"Box {s.markers['tag']}",
            "address": "desk@example.org",
            "host": "127.0.0.1",
            "port": "143",
            "security": "plain",
            "folder": "INBOX",
            "category_id": "0",
        },  # fmt: skip
    ),
    ("mail.mailbox_delete", "POST", ""): Case(
        "POST", lambda s, k: "/admin/mail/mailboxes/999999/delete", ADMIN_404
    ),
    ("mail.mailbox_test", "POST", ""): Case(
        "POST", lambda s, k: "/admin/mail/mailboxes/999999/test", ADMIN_404
    ),
    ("mail.outbox_retry", "POST", ""): Case(
        "POST", lambda s, k: "/admin/mail/outbox/999999/retry", ADMIN_404
    ),
    ("mail.quarantine_download", "GET", ""): Case(
        "GET", lambda s, k: "/admin/mail/quarantine/999999.eml", ADMIN_404
    ),
    ("sla.index", "GET", ""): Case("GET", lambda s, k: "/admin/sla/", ADMIN_INDEX),
    ("sla.policies", "GET", ""): Case("GET", lambda s, k: "/admin/sla/policies", ADMIN_ONLY_GET),
    ("sla.calendars", "GET", ""): Case("GET", lambda s, k: "/admin/sla/calendars", ADMIN_ONLY_GET),
    ("sla.calendars", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/sla/calendars",
        ADMIN_ONLY_POST,
        lambda s: {
            "name": f"Cal {s.markers['tag']}",
            "zone": "Europe/Madrid",
            "mon": "09:00-18:00",
        },
    ),
    ("sla.calendar_edit", "GET", ""): Case(
        "GET", lambda s, k: f"/admin/sla/calendars/{s.ids['sla_calendar']}", ADMIN_ONLY_GET
    ),
    ("sla.calendar_edit", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/sla/calendars/{s.ids['sla_calendar']}",
        ADMIN_ONLY_POST,
        lambda s: {"name": f"24x7 {s.markers['tag']}", "zone": "UTC", "mon": "00:00-24:00"},
    ),
    ("sla.holiday_add", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/sla/calendars/{s.ids['sla_calendar']}/holidays",
        ADMIN_ONLY_POST,
        lambda s: {"holiday-day": "2026-12-25", "holiday-name": "Navidad"},
    ),
    ("sla.holiday_prefill", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/sla/calendars/{s.ids['sla_calendar']}/holidays/prefill",
        ADMIN_ONLY_POST,
        lambda s: {"prefill-country": "ES", "prefill-year": "2026"},
    ),
    ("sla.holiday_delete", "POST", ""): Case(
        "POST",
        lambda s, k: (
            f"/admin/sla/calendars/{s.ids['sla_calendar']}/holidays/{s.ids['sla_holiday']}/delete"
        ),
        ADMIN_ONLY_POST,
    ),
    ("sla.policy_new", "GET", ""): Case(
        "GET", lambda s, k: "/admin/sla/policies/new", ADMIN_ONLY_GET
    ),
    ("sla.policy_new", "POST", ""): Case(
        "POST",
        lambda s, k: "/admin/sla/policies/new",
        ADMIN_ONLY_POST,
        lambda s: {
            "name": f"Pol {s.markers['tag']}",
            "calendar_id": str(s.ids["sla_calendar"]),
            "warn_percent": "80",
            "urgent_first_response": "60",
        },
    ),
    ("sla.policy_edit", "GET", ""): Case(
        "GET", lambda s, k: f"/admin/sla/policies/{s.ids['sla_policy']}", ADMIN_ONLY_GET
    ),
    ("sla.policy_edit", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/sla/policies/{s.ids['sla_policy']}",
        ADMIN_ONLY_POST,
        lambda s: {
            "name": "Default",
            "calendar_id": str(s.ids["sla_calendar"]),
            "warn_percent": "80",
            "urgent_resolution": "1440",
            "active": "y",
        },
    ),
    ("sla.policy_move", "POST", ""): Case(
        "POST",
        lambda s, k: f"/admin/sla/policies/{s.ids['sla_policy']}/move",
        ADMIN_ONLY_POST,
        lambda s: {"direction": "down"},
    ),
    ("sla.recompute", "POST", ""): Case(
        "POST", lambda s, k: "/admin/sla/recompute", ADMIN_ONLY_POST
    ),
}


def test_matrix_covers_every_route(app):
    """A new route under /tickets, /attachments or /admin needs its row in MATRIX."""
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIXES)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(endpoint, method) for endpoint, method, _variant in MATRIX}
    assert routes - covered == set(), "routes without an entry in the permission matrix"
    assert covered - routes == set(), "matrix entries for routes that no longer exist"
    for case in MATRIX.values():
        assert set(case.expect) == set(ROLES)


def _login(client, username: str) -> None:
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, resp.data[:300]


@pytest.mark.parametrize("role", list(ROLES))
def test_route_matrix(app, people, category, make_user, role):
    username, ticket_key = ROLES[role]
    client = app.test_client()
    if username:
        _login(client, username)
    visible = SEES[username]
    failures = []
    scene = None
    for (endpoint, method, variant), case in MATRIX.items():
        if scene is None:  # a fresh scene after every request that may have changed it
            scene = build_scene(people, category, make_user)
        url = case.url(scene, ticket_key)
        if method == "GET":
            resp = client.get(url)
        else:
            resp = client.post(url, data=case.data(scene) if case.data else {})
        expected = case.expect[role]
        name = f"{endpoint} {method} {variant} as {role}: {url}"
        if expected == "login":
            if resp.status_code != 302 or "/login" not in resp.headers.get("Location", ""):
                failures.append(f"{name}: {resp.status_code}, expected a redirect to /login")
        elif resp.status_code != expected:
            failures.append(f"{name}: {resp.status_code}, expected {expected}")
        body = resp.get_data(as_text=True) if resp.mimetype.startswith("text") else ""
        for key in ("t1", "t2"):
            hidden = [] if key in visible else [f"{key}_title", f"{key}_desc", f"{key}_note"]
            if username not in STAFF:
                hidden += [f"{key}_note", f"{key}_internal_file"]
            for marker in hidden:
                if scene.markers[marker] in body:
                    failures.append(f"{name}: body shows {marker}")
        if resp.status_code in (403, 404) and resp.mimetype == "image/png":
            failures.append(f"{name}: a refused download still sent the file")
        if method == "POST" and resp.status_code < 400:
            scene = None
        db.session.rollback()
        db.session.expire_all()
    assert not failures, "\n".join(failures)
