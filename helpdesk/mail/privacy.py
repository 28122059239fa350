"""Erasing a person from the mail channel's rows and kept files (called by
`privacy.services.erase_person`, inside its transaction)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select

from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage, MailPreference, Outbox, Quarantine
from helpdesk.mail.services import stored_path


def erase_person_mail(
    person_id: int, email: str | None, needles: list[str], gone: Callable[[str, Any], None]
) -> list[Path]:
    """Delete what the person sent or was sent (their mail, its originals, their
    outbox rows, their quarantined mail, their preferences) and scrub their name from
    mail sent to others. Returns the files to remove after commit."""
    files: list[Path] = []
    address = (email or "").lower()
    theirs = [MailMessage.sender == address] if address else []
    if theirs:
        for row in db.session.scalars(select(MailMessage).where(or_(*theirs))):
            if row.stored_name:
                files.append(stored_path(row.stored_name))
        gone("mail_messages", delete(MailMessage).where(or_(*theirs)))
        quarantined = select(Quarantine).where(func.lower(Quarantine.sender).contains(address))
        files += [stored_path(q.stored_name) for q in db.session.scalars(quarantined)]
        gone(
            "mail_quarantine",
            delete(Quarantine).where(func.lower(Quarantine.sender).contains(address)),
        )
    recipient = [Outbox.recipient_id == person_id]
    if address:
        recipient.append(func.lower(Outbox.to_address) == address)
    gone("mail_outbox", delete(Outbox).where(or_(*recipient)))
    gone("mail_preferences", delete(MailPreference).where(MailPreference.user_id == person_id))
    if not needles:
        return files
    for sent in db.session.scalars(
        select(Outbox).where(or_(*(Outbox.raw.contains(n) for n in needles)))
    ):
        for needle in needles:
            sent.raw = (sent.raw or "").replace(needle, "deleted user")
    return files
