"""Import every model so SQLAlchemy's metadata (and Alembic) sees all tables."""

from helpdesk.attachments.models import Attachment
from helpdesk.audit.models import AuditLog
from helpdesk.tickets.models import Category, Comment, Ticket, TicketEvent, TicketSequence
from helpdesk.users.models import User

__all__ = [
    "Attachment",
    "AuditLog",
    "Category",
    "Comment",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "User",
]
