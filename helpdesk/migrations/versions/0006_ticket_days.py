"""per-day ticket figures (ticket_days) kept by triggers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 21:40:00

The dashboard's averages, trend, "resolved today" and overdue figures read a
few summary rows per day instead of every ticket of the window.  The table is
filled from the tickets (one scan) and kept exact by the triggers in
helpdesk.tickets.daily.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    from helpdesk.tickets import daily

    op.create_table(
        "ticket_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("assignee_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("priority", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("created_n", sa.Integer(), nullable=False),
        sa.Column("open_n", sa.Integer(), nullable=False),
        sa.Column("responded_n", sa.Integer(), nullable=False),
        sa.Column("response_ms", sa.BigInteger(), nullable=False),
        sa.Column("resolved_n", sa.Integer(), nullable=False),
        sa.Column("resolution_ms", sa.BigInteger(), nullable=False),
        sa.Column("resolved_on_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "assignee_key", "priority", name=op.f("pk_ticket_days")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    daily.install(op.get_bind())


def downgrade():
    from helpdesk.tickets import daily

    daily.uninstall(op.get_bind())
    op.drop_table("ticket_days")
