"""per-day ticket figures (ticket_days); rollup rows in ticket_counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 21:40:00

The dashboard's averages, trend, "resolved today" and overdue figures read a
few summary rows per day instead of every ticket of the window.  The table is
filled from the tickets (one scan) and kept exact by the triggers in
helpdesk.tickets.daily.  Both tables gain rollup rows (-1: every assignee, and in
ticket_counts every category) and put assignee_key first in their primary key,
so an administrator reads a handful of rows and a technician two short ranges;
ticket_counts is rebuilt from the tickets for that.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _counts_table(*key):
    op.create_table(
        "ticket_counts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("priority", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_ticket_counts")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )


def _recreate_counts(*key, workload_index=True):
    from helpdesk.tickets import counters

    bind = op.get_bind()
    counters.uninstall(bind)
    op.drop_table("ticket_counts")
    _counts_table(*key)
    if workload_index:
        op.create_index(
            "ix_ticket_counts_category_id_status",
            "ticket_counts",
            ["category_id", "status", "assignee_key"],
        )
    counters.install(bind)


def upgrade():
    from helpdesk.tickets import daily

    _recreate_counts("assignee_key", "status", "priority", "category_id")
    op.create_table(
        "ticket_days",
        sa.Column("assignee_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("created_n", sa.Integer(), nullable=False),
        sa.Column("open_n", sa.Integer(), nullable=False),
        sa.Column("responded_n", sa.Integer(), nullable=False),
        sa.Column("response_ms", sa.BigInteger(), nullable=False),
        sa.Column("resolved_n", sa.Integer(), nullable=False),
        sa.Column("resolution_ms", sa.BigInteger(), nullable=False),
        sa.Column("resolved_on_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("assignee_key", "day", "priority", name=op.f("pk_ticket_days")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    daily.install(op.get_bind())


def downgrade():
    from helpdesk.tickets import daily

    daily.uninstall(op.get_bind())
    op.drop_table("ticket_days")
    # 0005's key order; the rollup rows stay (the triggers are this code's).
    _recreate_counts("status", "assignee_key", "priority", "category_id", workload_index=False)
