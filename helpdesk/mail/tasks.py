"""Background work of the mail channel (Huey, through `helpdesk.jobs`).

The outbox and the mailboxes are the source of truth: `send_outbox` is
enqueued after the commit that wrote a row, the minute sweep enqueues whatever
is due that the queue lost (or that waits for its next attempt), and the fetch
task reads each active mailbox once a minute.  Each task takes ids only and is
idempotent: sending claims the row, filing de-duplicates by Message-ID.
"""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.jobs import crontab, periodic_task, task
from helpdesk.mail import fetch, outbox
from helpdesk.mail.models import Mailbox


@task(priority=5)
def send_outbox(outbox_id: int) -> None:
    # Retries and back-off live on the row (attempts, next_attempt_at), not in
    # the queue: the sweep picks the row up again when it is due.
    outbox.send_one(outbox_id)


@task(priority=1)
def fetch_mailbox(mailbox_id: int) -> None:
    fetch.fetch_mailbox(mailbox_id)  # commits once per message itself


outbox.send_task[:] = [send_outbox]


@periodic_task(crontab(minute="*"))
def sweep_outbox() -> None:
    for outbox_id in outbox.due_ids():
        send_outbox(outbox_id)


@periodic_task(crontab(minute="*"))
def fetch_mailboxes() -> None:
    for mailbox_id in db.session.scalars(select(Mailbox.id).where(Mailbox.active.is_(True))):
        fetch_mailbox(mailbox_id)
