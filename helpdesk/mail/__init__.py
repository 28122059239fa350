"""The e-mail channel: mail becomes tickets and replies; the desk answers by mail."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from helpdesk.mail import cli, mailboxes, outbox, views
    from helpdesk.signals import ticket_event

    ticket_event.connect(outbox.on_ticket_event, weak=False)
    cli.register(app)
    app.register_blueprint(views.bp)
    # The ticket page lists the originals of mailed tickets to staff through this.
    app.jinja_env.globals["mail_originals"] = mailboxes.ticket_messages
