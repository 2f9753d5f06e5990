"""assistant runs keep what the audit chain shows: retrieved memories with scope and
score, the prompt sent, and whether memories were withheld from the model

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "assistant_runs",
        sa.Column(
            "retrieved",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.add_column("assistant_runs", sa.Column("prompt", postgresql.JSONB()))
    op.add_column(
        "assistant_runs",
        sa.Column(
            "memories_withheld",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )


def downgrade() -> None:
    op.drop_column("assistant_runs", "memories_withheld")
    op.drop_column("assistant_runs", "prompt")
    op.drop_column("assistant_runs", "retrieved")
