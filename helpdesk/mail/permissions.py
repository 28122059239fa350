"""Who may see what the mail channel keeps."""

from __future__ import annotations

from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_view_ticket
from helpdesk.users.models import User


def can_manage_mail(user: User) -> bool:
    return user.is_admin


def can_read_original(user: User, message: MailMessage) -> bool:
    """The original .eml is for staff who may see its ticket (admins: every one);
    it may hold what the customer quoted, headers and files the ticket does not."""
    if user.is_admin:
        return True
    if not user.is_staff or message.ticket_id is None:
        return False
    ticket = db.session.get(Ticket, message.ticket_id)
    return ticket is not None and can_view_ticket(user, ticket)
