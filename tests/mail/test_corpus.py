"""Every message of the corpus becomes a ticket with readable text or a recorded
refusal: never a crash, never lost, never script in the stored text or the page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.attachments.models import Attachment
from helpdesk.extensions import db
from helpdesk.mail.models import Direction, MailMessage, Outbox, OutboxKind, Quarantine
from helpdesk.mail.services import stored_path
from helpdesk.tickets.models import Ticket
from tests.mail import bigmail
from tests.mail.conftest import CORPUS, corpus_files, expected


def _check_recorded(raw: bytes, result) -> None:  # type: ignore[no-untyped-def]
    rows = db.session.scalar(select(func.count()).select_from(MailMessage)) or 0
    kept = db.session.scalar(select(func.count()).select_from(Quarantine)) or 0
    assert rows + kept >= 1, "the message left no trace"


def _check_ticket(ticket: Ticket) -> None:
    for text in (ticket.title, ticket.description):
        assert text.strip()
        assert "\x00" not in text
    lowered = ticket.description_html.lower()
    # Words that were script in the mail may remain as escaped text, never as markup.
    assert "<script" not in lowered and "<iframe" not in lowered and "<style" not in lowered
    assert 'href="javascript' not in lowered and "style=" not in lowered
    assert "<img" not in lowered  # remote images are never loaded


def test_corpus_is_large_enough() -> None:
    names = corpus_files()
    assert len(names) >= 60
    assert set(expected()) == set(names)


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_message(ingest, client, people, name) -> None:  # type: ignore[no-untyped-def]
    raw = (CORPUS / name).read_bytes()
    result = ingest(raw)
    _check_recorded(raw, result)
    assert result.outcome is not None
    assert result.outcome.value == expected()[name], result.reason
    if result.ticket_id:
        ticket = db.session.get(Ticket, result.ticket_id)
        assert ticket is not None
        _check_ticket(ticket)
        client.login("boss")
        page = client.get(f"/tickets/{ticket.id}")
        assert page.status_code == 200
        body = page.get_data(as_text=True).lower()
        assert "<script>alert" not in body and "tracker.example" not in body
    row = db.session.scalar(select(MailMessage).where(MailMessage.direction == Direction.IN))
    if row is not None and row.stored_name:
        assert stored_path(row.stored_name).read_bytes() == raw  # the original, kept whole


@pytest.mark.parametrize("name", sorted(bigmail.GENERATED))
def test_generated_large_message(ingest, name) -> None:  # type: ignore[no-untyped-def]
    raw = bigmail.GENERATED[name]()
    result = ingest(raw)
    assert result.outcome is not None and result.outcome.value == "ticket", result.reason
    ticket = db.session.get(Ticket, result.ticket_id)
    _check_ticket(ticket)
    if name == "deep-nesting":
        assert "fifty levels" in ticket.description
    if name == "big-attachment":
        # refused with an answer that says the limit; the text still made a ticket
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
        refusal = db.session.scalar(select(Outbox).where(Outbox.kind == OutboxKind.REFUSAL))
        assert refusal is not None and "big.pdf" in refusal.detail


def test_attachments_follow_the_upload_rules(ingest) -> None:  # type: ignore[no-untyped-def]
    def names(name: str) -> list[str]:
        result = ingest((CORPUS / name).read_bytes())
        return sorted(
            db.session.scalars(
                select(Attachment.original_name).where(Attachment.ticket_id == result.ticket_id)
            )
        )

    assert names("attachment-pdf.eml") == ["invoice.pdf"]
    assert names("rfc2231-filename.eml") == ["informe año 2026.pdf"]
    assert names("rfc2047-filename-dotdot.eml") == ["passwd.txt"]
    assert names("inline-cid-image.eml") == ["inline-1.png"]
    assert names("attachment-zip.eml") == ["logs.zip"]
    assert len(names("seven-attachments.eml")) == 7
    for refused in (
        "attachment-exe-as-pdf.eml",
        "attachment-svg.eml",
        "attachment-zip-as-docx.eml",
    ):
        assert names(refused) == []
    answers = db.session.scalars(select(Outbox.detail).where(Outbox.kind == OutboxKind.REFUSAL))
    text = "\n".join(answers)
    assert "manual.pdf" in text and "logo.svg" in text and "report.docx" in text
