"""tickets: the created_at index also holds status, priority, assignee and requester

Counting the open tickets of a day (the overdue card near each priority's limit,
date-range reports) then reads only the index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 03:00:00

"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ["created_at", "status", "priority", "assignee_id", "requester_id"]


def upgrade():
    op.create_index("ix_tickets_created_at_cover", "tickets", COLUMNS)
    op.drop_index("ix_tickets_created_at", table_name="tickets")


def downgrade():
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.drop_index("ix_tickets_created_at_cover", table_name="tickets")
