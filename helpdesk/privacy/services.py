"""Export and erase one person's data (GDPR articles 15, 17 and 20).

Both walk the schema instead of a hand-kept list: every column that references
`users.id` says where a person's rows are, so a new feature's table is covered the
day it lands. Services flush, never commit; files are removed after the commit.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, or_, select, update

from helpdesk.attachments.models import Attachment
from helpdesk.attachments.services import attachment_path
from helpdesk.audit.models import AuditLog
from helpdesk.audit.services import record as audit
from helpdesk.auth.models import LoginSession
from helpdesk.chat.models import Conversation, Message
from helpdesk.db import after_commit, rowcount, utcnow
from helpdesk.errors import InvalidInput, PermissionDenied
from helpdesk.extensions import db
from helpdesk.notifications.models import Notification
from helpdesk.ops.backup import _encode as encode_value
from helpdesk.privacy.permissions import can_erase_person, can_export_person
from helpdesk.reports.jobs import job_path
from helpdesk.reports.models import ExportJob
from helpdesk.security.passwords import hash_password
from helpdesk.tickets.models import Comment, Ticket, TicketEvent
from helpdesk.users.models import User

# Never handed out, even to the person: they prove identity, they do not describe it.
SECRET_COLUMNS = ("_hash", "secret", "totp")
ERASED_PREFIX = "~deleted-"  # "~" is outside the user-name pattern: no one signs in as it
MODES = ("anonymise", "delete")


def references(person_id: int) -> list[tuple[Table, list[Any]]]:
    """(table, columns pointing at users.id) for every table but `users` itself."""
    found = []
    for table in db.metadata.sorted_tables:
        if table.name == "users":
            continue
        columns = [fk.parent for fk in table.foreign_keys if fk.column.table.name == "users"]
        if columns:
            found.append((table, columns))
    return found


def _rows(table: Table, columns: list[Any], person_id: int) -> list[dict[str, Any]]:
    query = select(table).where(or_(*(c == person_id for c in columns)))
    return [
        {k: encode_value(v) for k, v in row.items() if not any(s in k for s in SECRET_COLUMNS)}
        for row in db.session.execute(query).mappings()
    ]


def export_person(actor: User, person: User) -> tuple[str, bytes]:
    """A zip with everything stored about `person`: data.json (their account and every
    row that refers to them, per table) and the files they uploaded."""
    if not can_export_person(actor, person):
        raise PermissionDenied("Only an administrator can export a person's data.")

    account = {
        k: encode_value(v)
        for k, v in db.session.execute(select(User.__table__).where(User.id == person.id))
        .mappings()
        .one()
        .items()
        if not any(s in k for s in SECRET_COLUMNS)
    }
    data: dict[str, Any] = {"exported_at": utcnow().isoformat(), "account": account, "tables": {}}
    for table, columns in references(person.id):
        rows = _rows(table, columns, person.id)
        if rows:
            data["tables"][table.name] = rows
    # Audit rows about them (target), not only by them (actor).
    about = db.session.scalars(
        select(AuditLog).where(AuditLog.target_type == "user", AuditLog.target_id == person.id)
    ).all()
    data["audit_about_them"] = [
        {"action": a.action, "detail": a.detail, "created_at": encode_value(a.created_at)}
        for a in about
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for att in db.session.scalars(
            select(Attachment).where(Attachment.uploader_id == person.id)
        ):
            path = attachment_path(att)
            if path.is_file():
                archive.write(path, f"attachments/{att.id}-{Path(att.original_name).name}")
    audit("privacy.export", actor=actor, target=person)
    return f"personal-data-{person.id}.zip", buffer.getvalue()


def _scrub(text: str | None, needles: list[str]) -> str | None:
    if not text:
        return text
    for needle in needles:
        text = text.replace(needle, "deleted user")
    return text


def erase_person(actor: User, person: User, *, mode: str = "anonymise") -> dict[str, int]:
    """Erase `person`: the account is kept only as an anonymous placeholder that can
    never sign in; chat, sessions, notifications and uploads go; their tickets and
    comments stay under "Deleted user" (mode "anonymise") or are deleted ("delete")."""
    if not can_erase_person(actor, person):
        raise PermissionDenied("Only an administrator can erase a person, and not themself.")
    if mode not in MODES:
        raise InvalidInput("Choose to keep their tickets anonymised or to delete them.")
    if person.username.startswith(ERASED_PREFIX):
        raise InvalidInput("This person was already erased.")

    pid = person.id
    needles = [n for n in (person.username, person.email, person.full_name) if n and len(n) >= 3]
    counts: dict[str, int] = {}

    def gone(name: str, statement: Any) -> None:
        counts[name] = counts.get(name, 0) + rowcount(db.session.execute(statement))

    files: list[Path] = []

    # Chat: whole conversations with them (the other side's lines were to them).
    conversations = select(Conversation.id).where(
        or_(Conversation.low_user_id == pid, Conversation.high_user_id == pid)
    )
    gone(
        "notifications", delete(Notification).where(Notification.conversation_id.in_(conversations))
    )
    gone("messages", delete(Message).where(Message.conversation_id.in_(conversations)))
    gone("messages", delete(Message).where(Message.sender_id == pid))
    gone("conversations", delete(Conversation).where(Conversation.id.in_(conversations)))

    if mode == "delete":
        theirs = select(Ticket.id).where(Ticket.requester_id == pid)
        attached = or_(Attachment.ticket_id.in_(theirs), Attachment.uploader_id == pid)
        files += [
            attachment_path(a) for a in db.session.scalars(select(Attachment).where(attached))
        ]
        gone("attachments", delete(Attachment).where(attached))
        their_comments = select(Comment.id).where(
            or_(Comment.author_id == pid, Comment.ticket_id.in_(theirs))
        )
        gone("notifications", delete(Notification).where(Notification.ticket_id.in_(theirs)))
        gone(
            "ticket_events",
            delete(TicketEvent).where(
                or_(TicketEvent.ticket_id.in_(theirs), TicketEvent.comment_id.in_(their_comments))
            ),
        )
        gone("comments", delete(Comment).where(Comment.id.in_(their_comments)))
        ids = list(db.session.scalars(theirs))
        for start in range(0, len(ids), 500):
            gone("tickets", delete(Ticket).where(Ticket.id.in_(ids[start : start + 500])))
    else:
        # Files can hold anything (a photo, a scanned ID): they go in either mode.
        mine = select(Attachment).where(Attachment.uploader_id == pid)
        files += [attachment_path(a) for a in db.session.scalars(mine)]
        gone("attachments", delete(Attachment).where(Attachment.uploader_id == pid))

    gone("notifications", delete(Notification).where(Notification.user_id == pid))
    db.session.execute(
        update(Notification).where(Notification.actor_id == pid).values(actor_id=None)
    )
    gone("login_sessions", delete(LoginSession).where(LoginSession.user_id == pid))
    files += [
        job_path(j.id)
        for j in db.session.scalars(select(ExportJob).where(ExportJob.owner_id == pid))
    ]
    gone("export_jobs", delete(ExportJob).where(ExportJob.owner_id == pid))
    # Whatever else belongs to the account alone (its rows go with it by the schema's
    # ON DELETE CASCADE: two-factor secrets, recovery codes, a new feature's table).
    for table, columns in references(pid):
        for column in columns:
            if any(fk.ondelete == "CASCADE" for fk in column.foreign_keys):
                gone(table.name, delete(table).where(column == pid))
    # Mail they sent or were sent, with the kept originals (helpdesk.mail).
    from helpdesk.mail.privacy import erase_person_mail

    files += erase_person_mail(pid, person.email, needles, gone)

    # Their names in free text kept elsewhere (audit details, timeline values).
    for row in db.session.scalars(
        select(AuditLog).where(
            or_(
                AuditLog.actor_id == pid,
                (AuditLog.target_type == "user") & (AuditLog.target_id == pid),
                *(AuditLog.detail.contains(n) for n in needles),
            )
        )
    ):
        row.detail = _scrub(row.detail, needles) or ""
        if row.actor_id == pid:
            row.ip = None
    for event in (
        db.session.scalars(
            select(TicketEvent).where(
                or_(
                    *(TicketEvent.old_value.contains(n) for n in needles),
                    *(TicketEvent.new_value.contains(n) for n in needles),
                )
            )
        )
        if needles
        else []
    ):
        event.old_value = _scrub(event.old_value, needles)
        event.new_value = _scrub(event.new_value, needles)

    person.username = f"{ERASED_PREFIX}{pid}"
    person.email = None
    person.full_name = ""
    person.password_hash = hash_password(secrets.token_urlsafe(32))  # known to nobody
    person.active = False
    person.must_change_password = False
    person.session_version += 1  # every open session and socket ends
    person.locale = person.theme = None
    person.last_login_at = person.last_seen_at = None
    db.session.flush()
    audit("privacy.erase", actor=actor, target=person, mode=mode, removed=counts)

    def remove_files() -> None:
        for path in files:
            path.unlink(missing_ok=True)

    after_commit(db.session, remove_files)
    return counts


def is_erased(user: User) -> bool:
    return user.username.startswith(ERASED_PREFIX)
