"""usage per month: a tenant's tokens per calendar month, kept by a trigger on
llm_usage, so the budget check before a model call reads one row instead of
summing every usage record of the month

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.db import app_role_name

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"
MONTH = "date_trunc('month', {ts} AT TIME ZONE 'UTC')::date"


def upgrade() -> None:
    op.create_table(
        "llm_usage_months",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "month"),
    )
    # SECURITY INVOKER (the default): the insert's own role and tenant, so RLS
    # holds for the total as for the record. The upsert locks the tenant's month
    # row until the turn commits; a tenant runs at most TENANT_MAX_CONCURRENCY
    # turns at once, so that queue is short.
    op.execute(f"""
        CREATE FUNCTION llm_usage_add_to_month() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO llm_usage_months (tenant_id, month, tokens)
            VALUES (NEW.tenant_id, {MONTH.format(ts="NEW.created_at")},
                    NEW.prompt_tokens + NEW.completion_tokens)
            ON CONFLICT (tenant_id, month)
            DO UPDATE SET tokens = llm_usage_months.tokens + EXCLUDED.tokens;
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER llm_usage_add_to_month AFTER INSERT ON llm_usage "
        "FOR EACH ROW EXECUTE FUNCTION llm_usage_add_to_month()"
    )
    op.execute(f"""
        INSERT INTO llm_usage_months (tenant_id, month, tokens)
        SELECT tenant_id, {MONTH.format(ts="created_at")},
               sum(prompt_tokens + completion_tokens)
        FROM llm_usage GROUP BY 1, 2
    """)
    # After the backfill: with FORCE, RLS would hold the owner to one tenant too
    # (a non-superuser owner). CREATE TRIGGER above locked llm_usage against
    # writes until this migration commits, so no record is counted twice or missed.
    op.execute("ALTER TABLE llm_usage_months ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE llm_usage_months FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON llm_usage_months "
        f"USING (tenant_id = {CURRENT_TENANT}) "
        f"WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON llm_usage_months "
        f'TO "{app_role_name()}"'
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS llm_usage_add_to_month ON llm_usage")
    op.execute("DROP FUNCTION IF EXISTS llm_usage_add_to_month()")
    op.drop_table("llm_usage_months")
