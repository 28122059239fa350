"""`helpdesk mail-ingest`, `mail-fetch`, `mail-send`, `mail-test`."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.transaction import unit_of_work

# sysexits.h: the MTA keeps the message and tries again later
EX_TEMPFAIL = 75


@click.command("mail-ingest")
@with_appcontext
def mail_ingest() -> None:
    """Read one RFC 5322 message on stdin and file it (for an MTA pipe)."""
    from helpdesk.mail import services
    from helpdesk.mail import settings as mail_settings

    limit = int(mail_settings.get("MAIL_MAX_MESSAGE_MB")) * 1024 * 1024
    # One byte over the limit is enough to know it is too large (and is quarantined).
    raw = sys.stdin.buffer.read(limit + 1)
    if not raw.strip():
        raise click.ClickException("No message on standard input.")
    try:
        with unit_of_work():
            result = services.ingest(raw)
    except SQLAlchemyError as exc:
        click.echo(f"mail-ingest: database unavailable, try again later: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    outcome = result.outcome.value if result.outcome else "duplicate"
    detail = f" ticket {result.ticket_id}" if result.ticket_id else ""
    click.echo(f"{outcome}{detail}{': ' + result.reason if result.reason else ''}")


@click.command("mail-send")
@with_appcontext
def mail_send() -> None:
    """Send what is due in the outbox (one pass; for cron when no worker runs)."""
    from helpdesk.mail import outbox

    with unit_of_work():
        ids = outbox.due_ids()
    sent = 0
    for outbox_id in ids:
        with unit_of_work():
            sent += bool(outbox.send_one(outbox_id))
    click.echo(f"sent {sent} of {len(ids)} due")


@click.command("mail-test")
@click.option("--to", "to_address", required=True, help="Where to send the test message.")
@with_appcontext
def mail_test(to_address: str) -> None:
    """Send one test message through the configured relay, now."""
    from helpdesk.mail import outbox
    from helpdesk.mail.models import Outbox, OutboxKind, OutboxStatus

    with unit_of_work():
        row = outbox.queue(OutboxKind.TEST, to_address=to_address, subject="test")
        outbox_id = row.id
    with unit_of_work():
        outbox.send_one(outbox_id)
    from helpdesk.extensions import db

    with unit_of_work():
        sent = db.session.get(Outbox, outbox_id)
        assert sent is not None
        if sent.status != OutboxStatus.SENT:
            raise click.ClickException(
                f"Could not send to {to_address}: {sent.last_error}. Check the SMTP relay "
                "(Admin → Mail, or helpdesk mail-fetch --help for mailboxes)."
            )
    click.echo(f"Sent a test message to {to_address}.")


@click.command("mail-fetch")
@click.option("--mailbox", "name", default=None, help="Only this mailbox (its name).")
@with_appcontext
def mail_fetch(name: str | None) -> None:
    """Read every active mailbox once (for cron when no worker runs)."""
    from helpdesk.errors import NotFound
    from helpdesk.mail import fetch

    try:
        reports = fetch.fetch_all(name)
    except NotFound as exc:
        from flask_babel import force_locale

        with force_locale("en"):  # the command line speaks English, like the others
            text = exc.message
        raise click.ClickException(f"{text} See the mailboxes on Admin → Mail.") from None
    if not reports:
        click.echo("No active mailbox; add one on Admin → Mail.")
    failed = False
    for report in reports:
        outcomes = (
            ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing new"
        )
        click.echo(f"{report.mailbox}: {report.fetched} fetched ({outcomes})")
        if report.error:
            failed = True
            click.echo(f"{report.mailbox}: error: {report.error}", err=True)
    if failed:
        sys.exit(1)


def register(app: Flask) -> None:
    for command in (mail_ingest, mail_send, mail_test, mail_fetch):
        app.cli.add_command(command)
