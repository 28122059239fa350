"""background work: worker heartbeats, periodic-task slots, failed tasks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade():
    op.create_table(
        "job_workers",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_workers")),
        **MYSQL,
    )
    op.create_index("ix_job_workers_seen_at", "job_workers", ["seen_at"])
    op.create_table(
        "job_schedule",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("last_slot", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_schedule")),
        **MYSQL,
    )
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
        **MYSQL,
    )
    op.create_index("ix_job_failures_failed_at", "job_failures", ["failed_at"])


def downgrade():
    op.drop_table("job_failures")
    op.drop_table("job_schedule")
    op.drop_table("job_workers")
