"""ticket counters by priority and category too; index on resolved_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 17:45:00

The dashboard's priority, category and workload figures read the counter rows
instead of grouping the whole tickets table.  ticket_counts is rebuilt from the
tickets (one GROUP BY) with the wider key, and its triggers regenerated.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _counts_table(*extra):
    op.create_table(
        "ticket_counts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_key", sa.Integer(), autoincrement=False, nullable=False),
        *extra,
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "status", "assignee_key", *(c.name for c in extra), name=op.f("pk_ticket_counts")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )


def upgrade():
    from helpdesk.tickets import counters

    bind = op.get_bind()
    counters.uninstall(bind)
    op.drop_table("ticket_counts")
    _counts_table(
        sa.Column("priority", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
    )
    counters.install(bind)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_resolved_at", ["resolved_at"], unique=False)


def downgrade():
    from helpdesk.tickets import counters

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_resolved_at")
    bind = op.get_bind()
    counters.uninstall(bind)
    op.drop_table("ticket_counts")
    _counts_table()
    counters.install(bind)
