"""Shared pieces of the route matrices (authorisation, CSRF, headers, internal notes).

`ROUTES` has one line per (endpoint, method) the app serves. A new route without a line
makes tests/security/test_authz_matrix.py fail and say which line to add.

Expectation strings: "anon | user own,foreign | technician own,foreign | admin own,foreign"
written as e.g. "L AD AD AA":
  A  authorised: any answer but 401/403/404 and not a redirect to the sign-in page
     (a 400/409 from a business rule still means the permission check let it through)
  D  denied: 403 or 404, and for state-changing methods nothing in the database changed
  L  sent to sign in: 401 or a redirect to /login (and nothing changed)
"Own" and "foreign" objects per role are built by `OBJECTS` (see `World`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from helpdesk.extensions import db

ROLES = ("anon", "user", "technician", "admin")


@dataclass(frozen=True)
class Entry:
    expect: str
    data: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None


E = Entry
# fmt: off
ROUTES: dict[tuple[str, str], Entry] = {
    # endpoint, method                       anon user tech admin
    ("static", "GET"):                      E("A AA AA AA"),
    ("main.healthz", "GET"):                E("A AA AA AA"),
    ("main.dashboard", "GET"):              E("L AA AA AA"),
    ("main.dashboard_data", "GET"):         E("L AA AA AA"),
    ("reports.index", "GET"):               E("L AA AA AA"),
    ("reports.export_csv", "GET"):          E("L AA AA AA"),
    ("reports.export_xlsx", "GET"):         E("L AA AA AA"),
    ("reports.export_pdf", "GET"):          E("L AA AA AA"),
    ("reports.xlsx_job_start", "POST"):     E("L AA AA AA"),
    # An export job is its owner's alone: not even an admin opens someone else's.
    ("reports.job_page", "GET"):            E("L AD AD AD"),
    ("reports.job_status", "GET"):          E("L AD AD AD"),
    ("reports.job_download", "GET"):        E("L AD AD AD"),
    ("auth.login", "GET"):                  E("A AA AA AA"),
    ("auth.login", "POST"):                 E("A AA AA AA", {"username": "{user_name}", "password": "{password}"}),
    ("auth.logout", "POST"):                E("L LL LL LL"),
    ("auth.keepalive", "POST"):             E("L AA AA AA"),
    ("auth.session_status", "GET"):         E("L AA AA AA"),
    ("auth.change_password", "GET"):        E("L AA AA AA"),
    ("auth.change_password", "POST"):       E("L AA AA AA", {"current_password": "wrong", "new_password": "x", "confirm": "x"}),
    ("users.profile", "GET"):               E("L AA AA AA"),
    ("users.profile", "POST"):              E("L AA AA AA", {"full_name": "Renamed", "email": "", "locale": "", "theme": ""}),
    ("users.language", "POST"):             E("A AA AA AA", {"locale": "en"}),
    ("users.theme", "POST"):                E("L AA AA AA", {"theme": "dark"}),
    ("tickets.index", "GET"):               E("L AA AA AA"),
    ("tickets.new", "GET"):                 E("L AA AA AA"),
    ("tickets.new", "POST"):                E("L AA AA AA", {"title": "Matrix", "description": "d", "category_id": "{category_id}", "priority": "low"}),
    ("tickets.detail", "GET"):              E("L AD AD AA"),
    ("tickets.comment", "POST"):            E("L AD AD AA", {"body": "hello"}),
    ("tickets.take", "POST"):               E("L DD AD AA"),
    ("tickets.status", "POST"):             E("L AD AD AA", {"status": "closed"}),
    ("tickets.priority", "POST"):           E("L DD AD AA", {"priority": "urgent"}),
    ("tickets.category", "POST"):           E("L DD AD AA", {"category_id": "{category_id}"}),
    ("tickets.assign", "POST"):             E("L DD DD AA", {"assignee_id": "{tech_id}"}),
    ("attachments.download", "GET"):        E("L AD AD AA"),
    ("privacy.export", "POST"):             E("L DD DD AA"),
    ("privacy.erase", "POST"):              E("L DD DD AA", {"confirm": "wrong", "mode": "anonymise"}),
    ("desk.branding", "GET"):               E("L DD DD AA"),
    ("desk.branding", "POST"):              E("L DD DD AA", {"name": "Matrix desk", "color": "#14532d"}),
    ("desk.dismiss_checklist", "POST"):     E("L DD DD AA"),
    ("desk.theme_css", "GET"):              E("A AA AA AA"),
    ("desk.logo", "GET"):                   E("A AA AA AA"),
    ("admin.index", "GET"):                 E("L DD DD AA"),
    ("admin.users_list", "GET"):            E("L DD DD AA"),
    ("admin.user_new", "GET"):              E("L DD DD AA"),
    ("admin.user_new", "POST"):             E("L DD DD AA", {"username": "newbie", "password": "Brand-New-Pass-42", "role": "user", "full_name": "N", "email": ""}),
    ("admin.user_edit", "GET"):             E("L DD DD AA"),
    ("admin.user_edit", "POST"):            E("L DD DD AA", {"full_name": "Edited", "email": "", "role": "technician"}),
    ("admin.user_reset_password", "POST"):  E("L DD DD AA", {"reset-password": "Temporary-Pass-42"}),
    ("admin.user_set_active", "POST"):      E("L DD DD AA", {"active": "0"}),
    ("admin.user_sessions", "GET"):         E("L DD DD AA"),
    ("admin.user_sessions_end", "POST"):    E("L DD DD AA"),
    ("admin.categories", "GET"):            E("L DD DD AA"),
    ("admin.categories", "POST"):           E("L DD DD AA", {"name": "Matrix category", "description": ""}),
    ("admin.category_edit", "GET"):         E("L DD DD AA"),
    ("admin.category_edit", "POST"):        E("L DD DD AA", {"name": "Renamed", "description": "", "active": "y"}),
    ("admin.category_delete", "POST"):      E("L DD DD AA"),
    ("audit.index", "GET"):                 E("L DD DD AA"),
    # Chat is private: not even an admin reads someone else's conversation.
    ("chat.index", "GET"):                  E("L AA AA AA"),
    ("chat.start", "POST"):                 E("L AA AA AA", {"user_id": "{tech2_id}"}),
    ("chat.conversation", "GET"):           E("L AD AD AD"),
    ("chat.messages", "GET"):               E("L AD AD AD"),
    ("chat.send", "POST"):                  E("L AD AD AD", {"body": "hello"}),
    ("notifications.index", "GET"):         E("L AA AA AA"),
    ("notifications.count", "GET"):         E("L AA AA AA"),
    ("notifications.read", "POST"):         E("L AD AD AD"),
    ("notifications.read_all", "POST"):     E("L AA AA AA"),
    ("twofactor.settings", "GET"):          E("L AA AA AA"),
    ("twofactor.setup", "POST"):            E("L AA AA AA", {"current_password": "wrong"}),
    ("twofactor.confirm", "GET"):           E("L AA AA AA"),
    ("twofactor.confirm", "POST"):          E("L AA AA AA", {"code": "000000"}),
    ("twofactor.recovery_codes", "POST"):   E("L AA AA AA", {"current_password": "wrong"}),
    ("twofactor.disable", "POST"):          E("L AA AA AA", {"current_password": "wrong"}),
    # Half-way through signing in there is no session yet: without a pending password
    # step it sends back to the sign-in page; a signed-in person goes to the dashboard.
    ("twofactor.sign_in", "GET"):           E("L AA AA AA"),
    ("twofactor.sign_in", "POST"):          E("L AA AA AA", {"code": "000000"}),
    ("twofactor.admin_requirement", "GET"): E("L DD DD AA"),
    ("twofactor.admin_requirement", "POST"): E("L DD DD AA", {"required": ""}),
    ("twofactor.admin_reset", "POST"):      E("L DD DD AA"),
    ("mail.index", "GET"):                  E("L DD DD AA"),
    ("mail.relay_save", "POST"):            E("L DD DD AA", {"host": "127.0.0.1", "port": "25", "security": "plain", "from_address": "desk@example.org"}),
    ("mail.relay_test", "POST"):            E("L DD DD AA"),
    ("mail.mailbox_edit", "GET"):           E("L DD DD AA"),
    ("mail.mailbox_edit", "POST"):          E("L DD DD AA", {"name": "Matrix box", "address": "desk@example.org", "host": "127.0.0.1", "port": "9", "security": "plain", "folder": "INBOX", "category_id": "0"}),
    ("mail.mailbox_delete", "POST"):        E("L DD DD AA"),
    ("mail.mailbox_test", "POST"):          E("L DD DD AA"),
    ("mail.outbox_retry", "POST"):          E("L DD DD AA"),
    ("mail.quarantine_download", "GET"):    E("L DD DD AA"),
    # The original of a mailed ticket: staff who may see the ticket (never its requester).
    ("mail.original", "GET"):               E("L DD AD AA"),
    ("mail.preferences", "GET"):            E("L AA AA AA"),
    ("mail.preferences", "POST"):           E("L AA AA AA", {"reply": "y"}),
    # Service levels: administrators only.
    ("sla.index", "GET"):                   E("L DD DD AA"),
    ("sla.policies", "GET"):                E("L DD DD AA"),
    ("sla.calendars", "GET"):               E("L DD DD AA"),
    ("sla.calendars", "POST"):              E("L DD DD AA", {"name": "Matrix calendar", "zone": "Europe/Madrid", "mon": "09:00-18:00"}),
    ("sla.calendar_edit", "GET"):           E("L DD DD AA"),
    ("sla.calendar_edit", "POST"):          E("L DD DD AA", {"name": "Matrix 24x7", "zone": "UTC", "mon": "00:00-24:00"}),
    ("sla.holiday_add", "POST"):            E("L DD DD AA", {"holiday-day": "2026-12-25", "holiday-name": "Navidad"}),
    ("sla.holiday_prefill", "POST"):        E("L DD DD AA", {"prefill-country": "ES", "prefill-year": "2026"}),
    ("sla.holiday_delete", "POST"):         E("L DD DD AA"),
    ("sla.policy_new", "GET"):              E("L DD DD AA"),
    ("sla.policy_new", "POST"):             E("L DD DD AA", {"name": "Matrix policy"}),
    ("sla.policy_edit", "GET"):             E("L DD DD AA"),
    ("sla.policy_edit", "POST"):            E("L DD DD AA", {"name": "Matrix policy"}),
    ("sla.policy_move", "POST"):            E("L DD DD AA", {"direction": "up"}),
    ("sla.recompute", "POST"):              E("L DD DD AA"),
}
# fmt: on

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def expectation(entry: Entry, role: str, own: bool) -> str:
    anon, user, tech, admin = entry.expect.split()
    if role == "anon":
        return anon
    pair = {"user": user, "technician": tech, "admin": admin}[role]
    return pair[0] if own else pair[1]


# ------------------------------------------------------------------ the world


def _tiny_png() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )


@dataclass
class World:
    """A requester's ticket assigned to `tech` (own for alice and tech) and another
    requester's ticket assigned to `tech2` (foreign for both), each with a file and an
    internal note; a category; an admin."""

    users: dict[str, Any]
    password: str
    ticket_own: Any
    ticket_foreign: Any
    attachment_own: Any
    attachment_foreign: Any
    category: Any
    export_jobs: dict[str, str] = field(default_factory=dict)  # person key -> finished job id
    mail: dict[str, int] = field(default_factory=dict)  # mail and service-level ids by kind

    def user(self, role: str):  # type: ignore[no-untyped-def]
        return self.users[{"user": "user", "technician": "tech", "admin": "admin"}[role]]


@lru_cache(maxsize=4)
def shared_hash(password: str) -> str:
    from helpdesk.security.passwords import hash_password

    return hash_password(password)


def build_world(tag: str, password: str) -> World:
    from helpdesk.attachments.services import Upload
    from helpdesk.tickets import services as tickets
    from helpdesk.users.models import Role, User

    made = {}
    for key, role in (
        ("admin", Role.ADMIN),
        ("tech", Role.TECHNICIAN),
        ("tech2", Role.TECHNICIAN),
        ("user", Role.USER),
        ("user2", Role.USER),
    ):
        # Rows added directly with one shared Argon2 hash: hashing five passwords per
        # world would dominate the matrix's run time.
        made[key] = User(
            username=f"{key}-{tag}",
            full_name=key.title(),
            role=role,
            password_hash=shared_hash(password),
            active=True,
            must_change_password=False,
            session_version=1,
        )
        db.session.add(made[key])
    db.session.flush()
    category = tickets.create_category(None, f"Cat {tag}")
    own = tickets.create_ticket(
        made["user"],
        title="Own ticket",
        description="mine",
        category_id=category.id,
        priority="medium",
        uploads=[Upload("own.png", io.BytesIO(_tiny_png()))],
    )
    foreign = tickets.create_ticket(
        made["user2"],
        title="Foreign ticket",
        description="theirs",
        category_id=category.id,
        priority="medium",
        uploads=[Upload("foreign.png", io.BytesIO(_tiny_png()))],
    )
    tickets.assign_ticket(made["admin"], own, made["tech"].id)
    tickets.assign_ticket(made["admin"], foreign, made["tech2"].id)
    tickets.add_comment(made["tech"], own, "SECRET-INTERNAL-NOTE", internal=True)
    tickets.add_comment(made["tech2"], foreign, "SECRET-INTERNAL-NOTE", internal=True)
    _add_chat_objects(made)
    db.session.commit()
    from helpdesk.attachments.services import ticket_attachments

    att_own = ticket_attachments(made["admin"], own)[0]
    att_foreign = ticket_attachments(made["admin"], foreign)[0]
    export_jobs = _export_jobs(made)
    mail = _mail_objects(tag, own, foreign)
    mail.update(_sla_objects())
    db.session.commit()
    return World(made, password, own, foreign, att_own, att_foreign, category, export_jobs, mail)


def _sla_objects() -> dict[str, int]:
    """The 24×7 default policy, its calendar and one holiday on it."""
    from datetime import date

    from helpdesk.sla import services as sla

    policy = sla.ensure_defaults()
    holiday = next((h for h in policy.calendar.holidays if h.day == date(2026, 1, 1)), None)
    holiday = holiday or sla.add_holiday(None, policy.calendar_id, day=date(2026, 1, 1))
    return {"sla_policy": policy.id, "sla_calendar": policy.calendar_id, "sla_holiday": holiday.id}


def _mail_objects(tag: str, own: Any, foreign: Any) -> dict[str, int]:
    """A mailbox (on a closed loopback port), an outbox row, a quarantined message and
    the kept original of a mail for each ticket."""
    from helpdesk.mail import mailboxes, outbox
    from helpdesk.mail import services as mail
    from helpdesk.mail.models import Direction, MailMessage, OutboxKind, Outcome
    from helpdesk.mail.parser import id_key

    box = mailboxes.save_mailbox(None, name=f"Box {tag}", address=f"desk-{tag}@example.org",
                                 host="127.0.0.1", port=9, security="plain", username="x")  # fmt: skip
    ids = {"mailbox": box.id}
    ids["outbox"] = outbox.queue(OutboxKind.TEST, to_address="x@example.org", subject="m").id
    ids["quarantine"] = mail.quarantine(b"Subject: broken\r\n\r\n\x00", "matrix").id
    for key, ticket in (("own", own), ("foreign", foreign)):
        row = MailMessage(key=id_key(f"{tag}-{key}"), message_id=f"{tag}-{key}@example.org",
                          direction=Direction.IN, outcome=Outcome.TICKET, ticket_id=ticket.id,
                          stored_name=mail.keep_original(b"Subject: kept\r\n\r\nbody"))  # fmt: skip
        db.session.add(row)
        db.session.flush()
        ids[f"message_{key}"] = row.id
    return ids


def _export_jobs(made: dict[str, Any]) -> dict[str, str]:
    """An Excel export job per person whose job a cell opens (own: user, tech, admin;
    foreign: user2's). Left queued (the runner costs time and the cells are about who
    gets an answer: the owner's download of an unfinished job is a 409); the
    internal-notes crawl runs the user's one to read a real file."""
    from helpdesk.reports import jobs
    from helpdesk.tickets.services import TicketFilters

    return {
        key: jobs.start_xlsx_job(made[key], TicketFilters(), locale="en").id
        for key in ("user", "tech", "admin", "user2")
    }


def _export_job_for(world: World, role: str, own: bool) -> str:
    if own and role != "anon":
        return world.export_jobs[{"user": "user", "technician": "tech", "admin": "admin"}[role]]
    return world.export_jobs["user2"]


def _user_for(world: World, role: str, own: bool) -> int:
    if own and role != "anon":
        return int(world.users[{"user": "user", "technician": "tech", "admin": "admin"}[role]].id)
    return int(world.users["user2"].id)


def _add_chat_objects(made: dict[str, Any]) -> None:
    """Conversations (each person's own, and tech2 with user2 as the foreign one) and
    one notification per person, made with the world so GETs find them ready."""
    from helpdesk.chat import services as chat
    from helpdesk.notifications.models import Notification, NotificationKind

    for a, b in (("user", "tech"), ("tech", "user"), ("admin", "user"), ("tech2", "user2")):
        chat.start_conversation(made[a], made[b])
    for person in made.values():
        db.session.add(Notification(user_id=person.id, kind=NotificationKind.TICKET_COMMENT))


def _conversation_for(world: World, role: str, own: bool) -> int:
    """Own: the signed-in person's chat with someone; foreign: tech2 with user2."""
    from helpdesk.chat import services as chat

    if own and role != "anon":
        me = world.user(role)
        conv = chat.start_conversation(me, world.users["tech" if role == "user" else "user"])
    else:
        conv = chat.start_conversation(world.users["tech2"], world.users["user2"])
    return int(conv.id)


def _notification_for(world: World, role: str, own: bool) -> int:
    from helpdesk.notifications.models import Notification

    owner = world.user(role) if own and role != "anon" else world.users["user2"]
    return int(
        db.session.scalars(select(Notification.id).where(Notification.user_id == owner.id)).first()
    )


# URL argument name -> object id for (world, role, own). Add a line for a new kind of id.
OBJECTS: dict[str, Any] = {
    "ticket_id": lambda w, role, own: (w.ticket_own if own else w.ticket_foreign).id,
    "attachment_id": lambda w, role, own: (w.attachment_own if own else w.attachment_foreign).id,
    "user_id": _user_for,
    "category_id": lambda w, role, own: w.category.id,
    "filename": lambda w, role, own: "css/app.css",
    "conversation_id": _conversation_for,
    "notification_id": _notification_for,
    "job_id": _export_job_for,
    "mailbox_id": lambda w, role, own: w.mail["mailbox"],
    "outbox_id": lambda w, role, own: w.mail["outbox"],
    "quarantine_id": lambda w, role, own: w.mail["quarantine"],
    "message_id": lambda w, role, own: w.mail["message_own" if own else "message_foreign"],
    "calendar_id": lambda w, role, own: w.mail["sla_calendar"],
    "holiday_id": lambda w, role, own: w.mail["sla_holiday"],
    "policy_id": lambda w, role, own: w.mail["sla_policy"],
}


def build_url(app, endpoint: str, arguments: set[str], world: World, role: str, own: bool) -> str:  # type: ignore[no-untyped-def]
    from flask import url_for

    missing = [a for a in arguments if a not in OBJECTS]
    if missing:
        raise AssertionError(
            f"route {endpoint} takes {missing}: add a builder for it to OBJECTS in "
            "tests/security/matrix.py"
        )
    values = {a: OBJECTS[a](world, role, own) for a in arguments}
    with app.test_request_context():
        return url_for(endpoint, **values)


def fill(data: dict[str, Any], world: World) -> dict[str, Any]:
    names = {
        "category_id": world.category.id,
        "tech_id": world.users["tech"].id,
        "tech2_id": world.users["tech2"].id,
        "user_name": world.users["user"].username,
        "password": world.password,
    }
    return {k: (v.format(**names) if isinstance(v, str) else v) for k, v in data.items()}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, minus bookkeeping that a request may legitimately touch."""
    skip_tables = {"audit_log", "login_sessions"}
    skip_columns = {"last_login_at", "last_seen_at"}
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in skip_tables:
            continue
        cols = [c for c in table.columns if c.name not in skip_columns]
        rows = db.session.execute(select(*cols)).all()
        out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def routes(app) -> list[tuple[str, str, set[str], str]]:  # type: ignore[no-untyped-def]
    """(endpoint, method, argument names, rule) for every route the app serves."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, set(rule.arguments), rule.rule))
    return sorted(out)


def classify(response) -> str:  # type: ignore[no-untyped-def]
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 401 or (status in (301, 302, 303) and "/login" in location):
        return "L"
    if status in (403, 404):
        return "D"
    return "A"


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    """What a successful POST /login leaves in the cookie, without paying for Argon2 on
    every cell (POST /login itself is covered by its own matrix line and test_sessions)."""
    import time

    from helpdesk.auth.services import open_login_session

    row = open_login_session(user, ip="127.0.0.1", lifetime_hours=12)
    db.session.commit()
    now = int(time.time())
    with client.session_transaction() as sess:
        sess.clear()
        sess.update(_user_id=user.get_id(), _fresh=True, sid=row.id, login_at=now, seen_at=now)
