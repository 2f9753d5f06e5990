"""properties and units are archived, not deleted; a recurring service's vendor

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("properties", "units"):
        op.add_column(
            table,
            sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        )
    op.add_column(
        "property_services",
        sa.Column("vendor", sa.String(length=200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("property_services", "vendor")
    for table in ("units", "properties"):
        op.drop_column(table, "archived_at")
