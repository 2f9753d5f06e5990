"""one assistant conversation per user (and one integrations channel per tenant):
merge the conversations that concurrent first messages split, then a unique index

Concurrent first messages of a new user each found no conversation and created one;
the chat lists one conversation, so the messages in the others vanished from it.
The repair keeps each owner's oldest conversation, moves every message of the
others into it and deletes them; the index then makes a second one impossible
(NULLS NOT DISTINCT: the integrations channel, user_id NULL, is unique too).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security is forced on both tables, which would hide every row from an
# owner that is not a superuser: lift it for the repair, within this transaction.
REPAIRED = ("conversations", "messages")

KEEPERS = """
    SELECT tenant_id, id,
           first_value(id) OVER (
               PARTITION BY tenant_id, user_id ORDER BY created_at, id
           ) AS keeper
    FROM conversations
"""


def upgrade() -> None:
    for table in REPAIRED:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""
        UPDATE messages m SET conversation_id = k.keeper
        FROM ({KEEPERS}) k
        WHERE m.tenant_id = k.tenant_id AND m.conversation_id = k.id
          AND k.id <> k.keeper
        """
    )
    op.execute(
        f"""
        DELETE FROM conversations c USING ({KEEPERS}) k
        WHERE c.tenant_id = k.tenant_id AND c.id = k.id AND k.id <> k.keeper
        """
    )
    for table in REPAIRED:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.drop_index("ix_conversations_user", table_name="conversations")
    op.execute(
        "CREATE UNIQUE INDEX ux_conversations_owner "
        "ON conversations (tenant_id, user_id) NULLS NOT DISTINCT"
    )


def downgrade() -> None:
    op.drop_index("ux_conversations_owner", table_name="conversations")
    op.create_index(
        "ix_conversations_user", "conversations", ["tenant_id", "user_id"], unique=False
    )
