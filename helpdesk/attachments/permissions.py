"""Who may download an attachment: whoever may see its ticket (and, for files on
internal notes, only staff)."""

from __future__ import annotations

from helpdesk.attachments.models import Attachment
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import can_see_internal, can_view_ticket
from helpdesk.users.models import User


def can_download(user: User, attachment: Attachment) -> bool:
    ticket = db.session.get(Ticket, attachment.ticket_id)
    if ticket is None or not can_view_ticket(user, ticket):
        return False
    return not attachment.internal or can_see_internal(user)
