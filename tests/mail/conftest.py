"""Mail fixtures: a desk with an address and a category, and one-message ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpdesk.extensions import db

CORPUS = Path(__file__).parent / "corpus"
DESK = "soporte@desk.example"


def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.eml"))


def expected() -> dict[str, str]:
    return json.loads((CORPUS / "expected.json").read_text())


@pytest.fixture
def desk(app, category):  # type: ignore[no-untyped-def]
    """The app answering as soporte@desk.example, files under the category."""
    app.config["MAIL_FROM"] = DESK
    app.config["MAIL_BASE_URL"] = "https://desk.example"
    return app


@pytest.fixture
def ingest(desk):  # type: ignore[no-untyped-def]
    from helpdesk.mail import services
    from helpdesk.transaction import unit_of_work

    def run(raw: bytes, mailbox=None):  # type: ignore[no-untyped-def]
        with unit_of_work():
            result = services.ingest(raw, mailbox=mailbox)
        db.session.expire_all()
        return result

    return run


def message(
    sender: str = "carla@example.org",
    subject: str = "Printer on fire",
    body: str = "The printer is on fire.",
    *,
    message_id: str | None = None,
    headers: str = "",
    to: str = DESK,
) -> bytes:
    import uuid

    message_id = message_id or f"{uuid.uuid4().hex}@example.org"
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n{headers}\r\n{body}\r\n'
    ).encode()


# ---------------------------------------------------------------- SMTP (aiosmtpd)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Captured:
    """What a real aiosmtpd server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def messages(self):  # type: ignore[no-untyped-def]
        from email import message_from_bytes, policy

        return [message_from_bytes(raw, policy=policy.default) for _f, _t, raw in self.envelopes]


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = Captured()
        self.controller = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def configure_relay(port: int) -> None:
    from helpdesk.mail.models import Security, SmtpRelay

    relay = db.session.get(SmtpRelay, 1) or SmtpRelay(id=1)
    relay.host, relay.port, relay.security = "127.0.0.1", port, Security.PLAIN
    relay.from_address = DESK
    db.session.add(relay)
    db.session.commit()


def leaked_notes(captured: Captured) -> list[str]:
    """Internal note texts (and their files' names) found in anything sent."""
    from sqlalchemy import select

    from helpdesk.attachments.models import Attachment
    from helpdesk.tickets.models import Comment

    secrets = list(db.session.scalars(select(Comment.body).where(Comment.internal.is_(True))))
    secrets += list(
        db.session.scalars(select(Attachment.original_name).where(Attachment.internal.is_(True)))
    )
    found = []
    for message, (_f, _t, raw) in zip(captured.messages(), captured.envelopes, strict=True):
        texts = [raw.decode("utf-8", "replace")]
        texts += [str(v) for _k, v in message.items()]
        texts += [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
        found += [s for s in secrets if any(s in t for t in texts)]
    return found


@pytest.fixture
def smtp(desk):  # type: ignore[no-untyped-def]
    """aiosmtpd on a free loopback port as the desk's relay; after the test, every
    captured message is swept for internal notes (none may ever be sent)."""
    server = SmtpServer().start()
    configure_relay(server.port)
    yield server
    server.stop()
    db.session.rollback()
    assert leaked_notes(server.handler) == []


@pytest.fixture
def send_all(desk):  # type: ignore[no-untyped-def]
    def run() -> int:
        result = desk.test_cli_runner().invoke(args=["mail-send"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return int(result.output.split()[1])

    return run


# ---------------------------------------------------------------- IMAP (dovecot)


@pytest.fixture
def dovecot():  # type: ignore[no-untyped-def]
    from tests.mail.dovecot import Dovecot

    server = Dovecot({"desk": "desk-password", "other": "other-password"}).start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(desk, dovecot, category):  # type: ignore[no-untyped-def]
    from helpdesk.mail import mailboxes

    box = mailboxes.save_mailbox(
        None,
        name="Support",
        address=DESK,
        host="127.0.0.1",
        port=dovecot.port,
        security="plain",
        username="desk",
        password="desk-password",
        category_id=category.id,
    )
    db.session.commit()
    return box
