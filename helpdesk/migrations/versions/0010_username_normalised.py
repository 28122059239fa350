"""users: user names stored in their normalised spelling, compared in binary on MySQL

Names were already ASCII (the old pattern), so NFKC + case folding is lower-casing
them. On MySQL/MariaDB the column gets `utf8mb4_bin`: under the table's `_unicode_ci`
collation `úser3` and `ｕｓｅｒ３` were equal to `user3` in every lookup.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade():
    bind = op.get_bind()
    clashes = bind.execute(
        sa.text(
            "SELECT LOWER(username) FROM users GROUP BY LOWER(username) HAVING COUNT(*) > 1"
        )
    ).all()
    if clashes:
        names = ", ".join(sorted(row[0] for row in clashes))
        raise RuntimeError(
            f"These user names differ only in case: {names}. Rename all but one of each "
            "(helpdesk shell or SQL) and run the upgrade again."
        )
    bind.execute(sa.text("UPDATE users SET username = LOWER(username)"))
    if _is_mysql():
        op.alter_column(
            "users",
            "username",
            existing_type=sa.String(length=64),
            type_=mysql.VARCHAR(64, charset="utf8mb4", collation="utf8mb4_bin"),
            existing_nullable=False,
        )


def downgrade():
    if _is_mysql():
        op.alter_column(
            "users",
            "username",
            existing_type=mysql.VARCHAR(64, charset="utf8mb4", collation="utf8mb4_bin"),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
