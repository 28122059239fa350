"""native full-text search and maintained ticket counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:20:00

Per dialect: SQLite FTS5 external-content table + triggers, MySQL/MariaDB
InnoDB FULLTEXT index, PostgreSQL generated tsvector column + GIN index; and
the `ticket_counts` table kept exact by triggers.  The DDL lives in
helpdesk.tickets.search / helpdesk.tickets.counters so `db.create_all()` (the
tests) builds the very same objects.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    from helpdesk.tickets import counters, search

    op.create_table(
        "ticket_counts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("status", "assignee_key", name=op.f("pk_ticket_counts")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_requester_id_status", ["requester_id", "status"], unique=False
        )
    bind = op.get_bind()
    search.install(bind)
    counters.install(bind)


def downgrade():
    from helpdesk.tickets import counters, search

    bind = op.get_bind()
    counters.uninstall(bind)
    search.uninstall(bind)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_requester_id_status")
    op.drop_table("ticket_counts")
