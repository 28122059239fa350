"""Import every model so SQLAlchemy's metadata (and Alembic) sees all tables."""

from typing import Any

from sqlalchemy import event

from helpdesk.attachments.models import Attachment
from helpdesk.audit.models import AuditLog
from helpdesk.auth.models import LoginSession
from helpdesk.chat.models import Conversation, Message
from helpdesk.desk.models import DeskSetting
from helpdesk.extensions import db
from helpdesk.jobs.models import JobFailure, JobSchedule, JobWorker
from helpdesk.mail.models import (
    Mailbox,
    MailMessage,
    MailPreference,
    Outbox,
    Quarantine,
    SmtpRelay,
)
from helpdesk.notifications.models import Notification
from helpdesk.reports.models import ExportJob
from helpdesk.sla.models import BusinessCalendar, Holiday, Policy, Target
from helpdesk.tickets import counters, daily, search
from helpdesk.tickets.models import (
    Category,
    Comment,
    Ticket,
    TicketCount,
    TicketDay,
    TicketEvent,
    TicketSequence,
)
from helpdesk.twofactor.models import RecoveryCode, TotpSecret
from helpdesk.users.models import User


@event.listens_for(db.metadata, "after_create")
def _database_objects(target: Any, connection: Any, **kw: Any) -> None:
    """Full-text index and counter triggers for `db.create_all()` (migrations 0002/0006 otherwise)."""
    search.install(connection)
    counters.install(connection)
    daily.install(connection)


__all__ = [
    "Attachment",
    "AuditLog",
    "BusinessCalendar",
    "Category",
    "Comment",
    "LoginSession",
    "Mailbox",
    "MailMessage",
    "MailPreference",
    "Outbox",
    "Quarantine",
    "SmtpRelay",
    "Conversation",
    "DeskSetting",
    "ExportJob",
    "JobFailure",
    "JobSchedule",
    "JobWorker",
    "Holiday",
    "Message",
    "Notification",
    "Policy",
    "RecoveryCode",
    "Target",
    "Ticket",
    "TicketCount",
    "TicketDay",
    "TicketEvent",
    "TicketSequence",
    "TotpSecret",
    "User",
]
