"""plan limits: a token budget and seats per tenant, set by the platform operator;
the admin's monthly budget becomes a bigint (it accepts up to ten billion)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("plan_token_budget", sa.BigInteger()))
    op.add_column("tenants", sa.Column("plan_seats", sa.Integer()))
    op.alter_column(
        "tenants",
        "monthly_token_budget",
        type_=sa.BigInteger(),
        existing_type=sa.Integer(),
        existing_nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "tenants",
        "monthly_token_budget",
        type_=sa.Integer(),
        existing_type=sa.BigInteger(),
        existing_nullable=False,
        postgresql_using="least(monthly_token_budget, 2147483647)::integer",
    )
    op.drop_column("tenants", "plan_seats")
    op.drop_column("tenants", "plan_token_budget")
