"""desk settings: name, colour, logo, setup checklist state

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci", "mysql_engine": "InnoDB"}


def upgrade():
    op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_desk_settings")),
        **MYSQL,
    )


def downgrade():
    op.drop_table("desk_settings")
