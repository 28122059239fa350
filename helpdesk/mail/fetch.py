"""One pass over an IMAP mailbox: each unseen message filed in its own unit of
work, then flagged \\Seen.

This is a boundary like the CLI (it commits, once per message): a message that
fails is quarantined by `services.ingest` and the pass goes on; a message is
flagged only after its unit committed, and if flagging fails the Message-ID
de-duplication keeps the next pass from filing it twice.  The last fetch time
and error are kept on the mailbox.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from helpdesk.db import utcnow
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.mail import crypto, services
from helpdesk.mail.models import Mailbox, Security
from helpdesk.mail.outbox import tls_context
from helpdesk.transaction import unit_of_work

log = logging.getLogger(__name__)
BATCH = 500  # messages per pass; the next pass takes the rest
TIMEOUT = 60


@dataclass
class FetchReport:
    mailbox: str
    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def connect(mailbox: Mailbox, password: str) -> imaplib.IMAP4:
    imap: imaplib.IMAP4
    if mailbox.security == Security.TLS:
        imap = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=tls_context(), timeout=TIMEOUT
        )
    else:
        imap = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
        if mailbox.security == Security.STARTTLS:
            imap.starttls(ssl_context=tls_context())
    imap.login(mailbox.username, password)
    return imap


def _folder(name: str) -> str:
    # A folder name with spaces must be quoted; imaplib does not do it.
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"' if " " in name else name


def _uid_messages(imap: imaplib.IMAP4, folder: str) -> list[bytes]:
    typ, data = imap.select(_folder(folder))
    if typ != "OK":
        raise imaplib.IMAP4.error(f"cannot open folder {folder}: {data!r}")
    typ, data = imap.uid("search", "UNSEEN")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"search failed: {data!r}")
    return (data[0] or b"").split()[:BATCH]


def _body(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def fetch_mailbox(mailbox_id: int) -> FetchReport:
    with unit_of_work():
        mailbox = db.session.get(Mailbox, mailbox_id)
        if mailbox is None:
            raise NotFound("No such mailbox.")
        report = FetchReport(mailbox.name)
        password = crypto.decrypt(mailbox.password_encrypted)
        folder = mailbox.folder or "INBOX"
    try:
        imap = connect(mailbox, password)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        report.error = f"cannot connect: {exc}"
        _finish(mailbox_id, report)
        return report
    try:
        for uid in _uid_messages(imap, folder):
            typ, data = imap.uid("fetch", uid.decode(), "(BODY.PEEK[])")
            raw = _body(data) if typ == "OK" else None
            if raw is None:
                report.error = f"cannot fetch message {uid.decode()}: {data!r}"[:500]
                continue
            with unit_of_work():
                box = db.session.get(Mailbox, mailbox_id)
                result = services.ingest(raw, mailbox=box)
            name = result.outcome.value if result.outcome else "duplicate"
            report.outcomes[name] = report.outcomes.get(name, 0) + 1
            report.fetched += 1
            imap.uid("store", uid.decode(), "+FLAGS", "(\\Seen)")
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        report.error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    _finish(mailbox_id, report)
    return report


def _finish(mailbox_id: int, report: FetchReport) -> None:
    with unit_of_work():
        mailbox = db.session.get(Mailbox, mailbox_id)
        if mailbox is not None:
            mailbox.last_fetch_at = utcnow()
            mailbox.last_error = report.error[:500] if report.error else None
    if report.error:
        log.warning("mailbox %s: %s", report.mailbox, report.error)


def fetch_all(name: str | None = None) -> list[FetchReport]:
    with unit_of_work():
        query = select(Mailbox.id).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
        if name:
            query = select(Mailbox.id).where(Mailbox.name == name)
        ids = list(db.session.scalars(query))
    if name and not ids:
        raise NotFound("No mailbox named %(name)s.", name=name)
    return [fetch_mailbox(i) for i in ids]


def check_connection(mailbox: Mailbox, password: str | None = None) -> str | None:
    """None when the mailbox can be opened, else why not (for the admin page)."""
    try:
        imap = connect(mailbox, password or crypto.decrypt(mailbox.password_encrypted))
        try:
            _uid_messages(imap, mailbox.folder or "INBOX")
        finally:
            imap.logout()
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        return re.sub(r"\s+", " ", f"{type(exc).__name__}: {exc}")[:300]
    return None
