"""people in the console: users listed by name one page at a time (an index the
sorted, limited query walks instead of sorting the whole tenant)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["tenant_id", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_name", table_name="users")
