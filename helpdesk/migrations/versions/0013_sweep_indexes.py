"""indexes for the periodic sweeps: login sessions by age, export jobs by status and
heartbeat

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:30:00

"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_login_sessions_created_at", "login_sessions", ["created_at"])
    op.create_index(
        "ix_export_jobs_status_heartbeat_at", "export_jobs", ["status", "heartbeat_at"]
    )


def downgrade():
    op.drop_index("ix_export_jobs_status_heartbeat_at", table_name="export_jobs")
    op.drop_index("ix_login_sessions_created_at", table_name="login_sessions")
