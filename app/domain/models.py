"""The data model: every table of Switchboard, in one place.

Tenant-owned tables carry tenant_id NOT NULL as the first column of their primary key
and of every index, and reference each other through composite foreign keys
(tenant_id, id): a row can never point at another tenant's row, and a later move to a
distributed PostgreSQL (Citus) can shard every table by tenant_id. Row-level security
on these tables is created by the migrations (app/migrations), not here.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

EMBEDDING_DIM = 384


def table(model: type[SQLModel]) -> sa.Table:
    """A model's table, for statements built once (SQLModel does not type it)."""
    found: sa.Table = model.__table__  # type: ignore[attr-defined]
    return found


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class MemoryScope(enum.StrEnum):
    tenant = "tenant"
    team = "team"
    user = "user"


class MessageStatus(enum.StrEnum):
    received = "received"  # committed, job not yet known to be queued
    queued = "queued"
    processing = "processing"
    done = "done"
    failed = "failed"


class ActionStatus(enum.StrEnum):
    rejected = "rejected"
    pending_approval = "pending_approval"
    approved = "approved"
    executed = "executed"
    discarded = "discarded"  # approval rejected
    expired = "expired"
    failed = "failed"


class ApprovalStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"


def _ts(nullable: bool = False, default_now: bool = True) -> Any:
    return Field(
        default_factory=utcnow if default_now else None,
        sa_column_kwargs={"nullable": nullable},
        sa_type=sa.DateTime(timezone=True),
    )


def _opt_ts() -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True))


def _json(default: Any = None) -> Any:
    factory: Callable[[], Any] | None = None
    if isinstance(default, dict):
        factory = lambda: dict(default)  # noqa: E731
    elif isinstance(default, list):
        factory = list
    if factory is not None:
        return Field(
            default_factory=factory, sa_type=JSONB, sa_column_kwargs={"nullable": False}
        )
    return Field(default=None, sa_type=JSONB)


def _fk(
    *pairs: tuple[str, str], ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """Composite FK: ('col', 'table.col') pairs, tenant_id first."""
    local = ["tenant_id"] + [p[0] for p in pairs]
    table = pairs[0][1].split(".")[0]
    remote = [f"{table}.tenant_id"] + [p[1] for p in pairs]
    return sa.ForeignKeyConstraint(local, remote, ondelete=ondelete)


def _tenant_fk() -> Any:
    return Field(foreign_key="tenants.id", primary_key=True, index=False)


# --------------------------------------------------------------------------- platform


class Tenant(SQLModel, table=True):
    """An organisation. Not tenant-owned itself: the platform operator manages it."""

    __tablename__ = "tenants"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(max_length=63, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="other", max_length=40)
    timezone: str = Field(default="UTC", max_length=64)
    status: str = Field(default="active", max_length=20)
    # The admin's own monthly budget; the plan's (below) caps it (app/domain/plan.py).
    monthly_token_budget: int = Field(default=2_000_000, sa_type=sa.BigInteger)
    # Plan limits, set by the platform operator (None: no limit).
    plan_token_budget: int | None = Field(default=None, sa_type=sa.BigInteger)
    plan_seats: int | None = Field(default=None)
    # Tenant policy: which action types need approval, purchase threshold...
    policy: dict[str, Any] = _json({})
    created_at: datetime = _ts()


class Operator(SQLModel, table=True):
    """A platform operator: manages tenants, never sees tenant content."""

    __tablename__ = "operators"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    password_hash: str
    disabled: bool = False
    created_at: datetime = _ts()


class OperatorRefreshToken(SQLModel, table=True):
    __tablename__ = "operator_refresh_tokens"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    operator_id: uuid.UUID = Field(foreign_key="operators.id", index=True)
    family_id: uuid.UUID
    token_hash: str = Field(max_length=128, unique=True)
    expires_at: datetime = _ts(default_now=False)
    used_at: datetime | None = _opt_ts()
    revoked_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()


# --------------------------------------------------------------------- people & places


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "email"),
        sa.UniqueConstraint("tenant_id", "handle"),
        # The console lists people by name, one page at a time.
        sa.Index("ix_users_name", "tenant_id", "name", "id"),
        _fk(("property_id", "properties.id")),
        _fk(("unit_id", "units.id")),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    handle: str = Field(max_length=63)
    email: str = Field(max_length=254)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    password_hash: str
    disabled: bool = False
    # Residents: the property and unit they live in.
    property_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    # When push notifications may reach them, local "HH:MM-HH:MM"; None: any time
    # (app/domain/push_hours.py).
    push_hours: str | None = Field(default=None, max_length=11)
    # Relayed messages ("From Luis: ...") pushed as one summary at most every
    # DIGEST_EVERY instead of one by one (app/services/push_digest.py).
    push_digest: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    created_at: datetime = _ts()


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "slug"),)
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(max_length=63)
    name: str = Field(max_length=200)
    created_at: datetime = _ts()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"
    __table_args__ = (
        _fk(("team_id", "teams.id"), ondelete="CASCADE"),
        _fk(("user_id", "users.id"), ondelete="CASCADE"),
        sa.Index("ix_team_members_user", "tenant_id", "user_id"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    team_id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(primary_key=True)
    is_lead: bool = False


class Property(SQLModel, table=True):
    __tablename__ = "properties"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "slug"),)
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(max_length=63)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=500)
    # Archived, not deleted: its history (tasks, service logs, residents) stays;
    # the console hides it by default and the assistant is never offered it.
    archived_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()


class Unit(SQLModel, table=True):
    __tablename__ = "units"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "property_id", "label"),
        _fk(("property_id", "properties.id"), ondelete="CASCADE"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    property_id: uuid.UUID
    label: str = Field(max_length=20)
    archived_at: datetime | None = _opt_ts()  # as Property.archived_at


class PropertyService(SQLModel, table=True):
    """A recurring service at a property (hallway cleaning every Friday 10:00)."""

    __tablename__ = "property_services"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "property_id", "name"),
        _fk(("property_id", "properties.id"), ondelete="CASCADE"),
        _fk(("team_id", "teams.id")),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    property_id: uuid.UUID
    name: str = Field(max_length=200)
    team_id: uuid.UUID | None = None
    # Who does it when it is not one of the teams: an outside company, by name.
    vendor: str = Field(default="", max_length=200)
    weekday: int | None = None  # date.weekday(): 0 = Monday (domain/recurrence.py)
    month_day: int | None = None
    time_of_day: str = Field(default="09:00", max_length=5)
    active: bool = True


# --------------------------------------------------------------------- conversations


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        _fk(("user_id", "users.id")),
        # One conversation per user, and one integrations channel (user_id NULL)
        # per tenant: concurrent first messages must not split it (migration 0004).
        sa.Index(
            "ux_conversations_owner",
            "tenant_id",
            "user_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID | None = None  # None: an integration's inbound channel
    title: str = Field(default="Assistant", max_length=200)
    created_at: datetime = _ts()


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        # A resend with the same client id is the same message.
        sa.UniqueConstraint("tenant_id", "sender_key", "client_message_id"),
        _fk(("conversation_id", "conversations.id")),
        _fk(("sender_user_id", "users.id")),
        sa.Index(
            "ix_messages_conversation", "tenant_id", "conversation_id", "created_at"
        ),
        sa.Index("ix_messages_status", "tenant_id", "status", "updated_at"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    conversation_id: uuid.UUID
    sender_user_id: uuid.UUID | None = None
    # "user:<id>" or "apikey:<id>": who owns client_message_id's namespace.
    sender_key: str = Field(max_length=80)
    author: str = Field(default="user", max_length=20)  # user | assistant | event
    client_message_id: str = Field(max_length=100)
    body: str = Field(sa_type=sa.Text)
    source: str = Field(default="chat", max_length=20)  # chat | api | integration
    status: str = Field(default=MessageStatus.received.value, max_length=20)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    reply_to_id: uuid.UUID | None = None
    # Scenario runs and tests pin the clock; None = now.
    clock: datetime | None = _opt_ts()
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Memory(SQLModel, table=True):
    __tablename__ = "memories"
    __table_args__ = (
        _fk(("team_id", "teams.id")),
        _fk(("user_id", "users.id")),
        sa.UniqueConstraint("tenant_id", "source_type", "source_id"),
        sa.Index("ix_memories_scope", "tenant_id", "scope", "team_id", "user_id"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    scope: str = Field(max_length=10)
    team_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    text: str = Field(sa_type=sa.Text)
    # Where it came from: seed:<n>, message:<id>, task:<id>, schedule:<id>...
    source_type: str = Field(max_length=20)
    source_id: str = Field(max_length=100)
    embedding: list[float] | None = Field(
        default=None,
        sa_type=Vector(EMBEDDING_DIM),
    )
    # The migration adds `tsv tsvector GENERATED ALWAYS AS (to_tsvector(text))` and
    # its GIN index; it is read only by retrieval SQL, so it is not mapped here.
    created_at: datetime = _ts()


# ------------------------------------------------------------------------- the work


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        _fk(("assignee_user_id", "users.id")),
        _fk(("assignee_team_id", "teams.id")),
        _fk(("property_id", "properties.id")),
        _fk(("unit_id", "units.id")),
        _fk(("created_by", "users.id")),
        sa.UniqueConstraint("tenant_id", "source_action_id"),
        sa.Index("ix_tasks_assignee", "tenant_id", "assignee_user_id", "status"),
        sa.Index("ix_tasks_team", "tenant_id", "assignee_team_id", "status"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    details: str = Field(default="", max_length=2000)
    assignee_user_id: uuid.UUID | None = None
    assignee_team_id: uuid.UUID | None = None
    property_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    due_at: datetime | None = _opt_ts()
    priority: str = Field(default="normal", max_length=10)
    status: str = Field(
        default="open", max_length=20
    )  # open|in_progress|done|cancelled
    created_by: uuid.UUID | None = None
    source_action_id: uuid.UUID | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Schedule(SQLModel, table=True):
    __tablename__ = "schedules"
    __table_args__ = (
        _fk(("team_id", "teams.id")),
        _fk(("property_id", "properties.id")),
        _fk(("unit_id", "units.id")),
        _fk(("created_by", "users.id")),
        sa.UniqueConstraint("tenant_id", "source_action_id"),
        sa.Index("ix_schedules_start", "tenant_id", "starts_at"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(default="event", max_length=40)
    starts_at: datetime | None = _opt_ts()  # next occurrence for recurring ones
    # Recurring: {"weekday": 3, "time": "07:00"} or {"month_day": 15, "time": ...}
    recurrence: dict[str, Any] | None = _json()
    audience: list[str] = _json([])  # recipient refs: team:kitchen, property:...
    team_id: uuid.UUID | None = None
    property_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    created_by: uuid.UUID | None = None
    source_action_id: uuid.UUID | None = None
    reminder_sent_at: datetime | None = _opt_ts()
    status: str = Field(default="active", max_length=20)
    created_at: datetime = _ts()


class ServiceLog(SQLModel, table=True):
    __tablename__ = "service_logs"
    __table_args__ = (
        _fk(("property_id", "properties.id")),
        _fk(("service_id", "property_services.id")),
        _fk(("performed_by", "users.id")),
        sa.UniqueConstraint("tenant_id", "source_action_id"),
        sa.Index(
            "ix_service_logs_property", "tenant_id", "property_id", "performed_at"
        ),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    property_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    service_name: str = Field(max_length=200)
    note: str = Field(default="", max_length=2000)
    performed_by: uuid.UUID | None = None
    performed_at: datetime = _ts()
    source_action_id: uuid.UUID | None = None


# ------------------------------------------------------------ actions and approvals


class AssistantRun(SQLModel, table=True):
    """The audit chain of one message: retrieval → model → actions → verdicts."""

    __tablename__ = "assistant_runs"
    __table_args__ = (
        _fk(("message_id", "messages.id")),
        sa.UniqueConstraint("tenant_id", "message_id"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    message_id: uuid.UUID
    retrieved_memory_ids: list[str] = _json([])
    # What the audit chain shows: [{"id", "scope", "score"}] in retrieval order,
    # the prompt messages as sent (admins only), and whether the tenant's data
    # policy kept memory content out of an external model's prompt.
    retrieved: list[dict[str, Any]] = _json([])
    prompt: list[dict[str, str]] | None = _json()
    memories_withheld: bool = False
    model: str = Field(default="", max_length=120)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    reply: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="ok", max_length=20)
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()


class ProposedAction(SQLModel, table=True):
    __tablename__ = "proposed_actions"
    __table_args__ = (
        _fk(("message_id", "messages.id")),
        _fk(("requested_by", "users.id")),
        sa.UniqueConstraint("tenant_id", "message_id", "position"),
        sa.Index("ix_actions_status", "tenant_id", "status"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    message_id: uuid.UUID
    position: int = 0
    type: str = Field(max_length=40)
    payload: dict[str, Any] = _json({})
    payload_hash: str = Field(max_length=64)
    requested_by: uuid.UUID | None = None
    status: str = Field(max_length=20)
    verdict: dict[str, Any] = _json({})  # {"decision": ..., "reason": ...}
    result: dict[str, Any] | None = _json()
    created_at: datetime = _ts()
    executed_at: datetime | None = _opt_ts()


class Approval(SQLModel, table=True):
    __tablename__ = "approvals"
    __table_args__ = (
        _fk(("action_id", "proposed_actions.id")),
        _fk(("requested_by", "users.id")),
        _fk(("decided_by", "users.id")),
        sa.UniqueConstraint("tenant_id", "action_id"),
        sa.Index("ix_approvals_status", "tenant_id", "status", "expires_at"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    action_id: uuid.UUID
    required_role: str = Field(max_length=20)
    requested_by: uuid.UUID | None = None
    payload_hash: str = Field(max_length=64)
    summary: str = Field(default="", max_length=500)
    status: str = Field(default=ApprovalStatus.pending.value, max_length=20)
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = _opt_ts()
    expires_at: datetime = _ts(default_now=False)
    created_at: datetime = _ts()


# ------------------------------------------------------------------- notifications


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        _fk(("user_id", "users.id")),
        # One notification per (cause, recipient): re-running a job adds nothing.
        sa.UniqueConstraint("tenant_id", "dedupe_key", "user_id"),
        sa.Index("ix_notifications_user", "tenant_id", "user_id", "created_at"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID
    kind: str = Field(max_length=40)  # notify|task|schedule|approval|reminder|system
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=2000)
    dedupe_key: str = Field(max_length=120)
    data: dict[str, Any] = _json({})
    read_at: datetime | None = _opt_ts()
    pushed_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()


class PushSubscription(SQLModel, table=True):
    __tablename__ = "push_subscriptions"
    __table_args__ = (
        _fk(("user_id", "users.id"), ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "endpoint"),
        sa.Index("ix_push_user", "tenant_id", "user_id"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID
    endpoint: str = Field(max_length=1000)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    failures: int = 0
    created_at: datetime = _ts()
    last_success_at: datetime | None = _opt_ts()


class PushDelivery(SQLModel, table=True):
    """One notification pushed to one subscription, recorded before the push is
    sent and confirmed right after the push service accepts it: a job run again
    after a crash skips what was confirmed (app/services/push_sender.py)."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        _fk(("notification_id", "notifications.id"), ondelete="CASCADE"),
        _fk(("subscription_id", "push_subscriptions.id"), ondelete="CASCADE"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    notification_id: uuid.UUID = Field(primary_key=True)
    subscription_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(default="sending", max_length=10)  # sending | sent | failed
    attempts: int = 1
    claimed_at: datetime = _ts()
    sent_at: datetime | None = _opt_ts()


# ------------------------------------------------------------------- audit & usage


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_time", "tenant_id", "created_at"),)
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    actor: str = Field(max_length=80)  # user:<id> | assistant | system | apikey:<id>
    kind: str = Field(max_length=60)
    subject: str = Field(default="", max_length=120)
    data: dict[str, Any] = _json({})
    created_at: datetime = _ts()


class LlmUsage(SQLModel, table=True):
    __tablename__ = "llm_usage"
    __table_args__ = (sa.Index("ix_llm_usage_time", "tenant_id", "created_at"),)
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    message_id: uuid.UUID | None = None
    purpose: str = Field(default="chat", max_length=20)  # chat | embedding | repair
    model: str = Field(max_length=120)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    created_at: datetime = _ts()


class LlmUsageMonth(SQLModel, table=True):
    """A tenant's tokens per calendar month (UTC), kept by a trigger on every
    llm_usage insert (migration 0010): the budget check before each model call
    reads one row instead of summing the month's usage records, which grow with
    the tenant's traffic. llm_usage rows are never updated."""

    __tablename__ = "llm_usage_months"
    tenant_id: uuid.UUID = _tenant_fk()
    month: date = Field(primary_key=True)  # the month's first day
    tokens: int = Field(default=0, sa_type=sa.BigInteger)


# ------------------------------------------------------------------------- auth


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        _fk(("user_id", "users.id"), ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "token_hash"),
        sa.Index("ix_refresh_family", "tenant_id", "family_id"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID
    family_id: uuid.UUID
    token_hash: str = Field(max_length=128)
    expires_at: datetime = _ts(default_now=False)
    used_at: datetime | None = _opt_ts()
    revoked_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()


class ApiKey(SQLModel, table=True):
    """Per-tenant key for integrations posting inbound events."""

    __tablename__ = "api_keys"
    __table_args__ = (
        _fk(("created_by", "users.id")),
        sa.UniqueConstraint("tenant_id", "key_hash"),
    )
    tenant_id: uuid.UUID = _tenant_fk()
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=20)
    key_hash: str = Field(max_length=128)
    created_by: uuid.UUID | None = None
    created_at: datetime = _ts()
    last_used_at: datetime | None = _opt_ts()
    revoked_at: datetime | None = _opt_ts()


# Tables under row-level security: every table whose rows belong to one tenant.
TENANT_TABLES: tuple[str, ...] = tuple(
    t.name
    for t in SQLModel.metadata.sorted_tables
    if "tenant_id" in t.c and t.name not in {"tenants"}
)
