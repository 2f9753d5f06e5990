"""Request and response bodies of /api/v1. Every string has a length limit, and
text the database cannot store (NUL, lone surrogates) is refused up front."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from app.domain.limits import MAX_MESSAGE_CHARS
from app.domain.money import CURRENCIES
from app.domain.roles import Role
from app.domain.tenant_policy import MODEL_PATTERN

NO_NUL = "^[^\\x00]*$"


def _document_no_nul(schema: dict[str, Any]) -> None:
    """Put the NUL refusal into the OpenAPI schema of every string field, so
    clients (and schema-driven fuzzers) know about it."""
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", [])]:
            if variant.get("type") == "string" and not (
                "pattern" in variant or "enum" in variant
            ):
                variant["pattern"] = NO_NUL


class Body(BaseModel):
    """Base for request bodies: unknown fields are an error; strings are clean."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_no_nul)

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError("must be valid Unicode text") from exc
        return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ------------------------------------------------------------------------ auth


class LoginIn(Body):
    tenant: str = Field(
        min_length=1, max_length=63, description="The organisation's slug."
    )
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class OperatorLoginIn(Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(Body):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutIn(RefreshIn):
    pass


class TokenOut(Out):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    name: str


class OperatorTokenOut(Out):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    operator_id: uuid.UUID
    name: str


class MeOut(Out):
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str


# -------------------------------------------------------------------- messages


class MessageIn(Body):
    body: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    client_message_id: str = Field(
        min_length=1,
        max_length=100,
        description="Chosen by the client; a resend with the same id is a no-op.",
    )


class EventIn(Body):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    client_event_id: str = Field(
        min_length=1,
        max_length=100,
        description="Chosen by the integration; a resend with the same id is a no-op.",
    )


class SubmitOut(Out):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    created: bool = Field(description="False when this client id was already sent.")
    status: str = Field(description="received | queued | processing | done | failed")


class MessageOut(Out):
    id: uuid.UUID
    conversation_id: uuid.UUID
    author: str
    body: str
    source: str
    status: str
    client_message_id: str
    reply_to_id: uuid.UUID | None
    created_at: datetime


# ----------------------------------------------------------------------- tasks

TaskStatus = Literal["open", "in_progress", "done", "cancelled"]


class TaskOut(Out):
    id: uuid.UUID
    title: str
    details: str
    status: str
    priority: str
    assignee_user_id: uuid.UUID | None
    assignee_team_id: uuid.UUID | None
    property_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    due_at: datetime | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class TaskStatusIn(Body):
    status: TaskStatus


# --------------------------------------------------------------- notifications


class NotificationOut(Out):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


class CountOut(Out):
    count: int


# ------------------------------------------------------------------- approvals


class ApprovalOut(Out):
    id: uuid.UUID
    action_id: uuid.UUID
    required_role: str
    requested_by: uuid.UUID | None
    summary: str
    status: str
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    expires_at: datetime
    created_at: datetime


# ------------------------------------------------------------------------ push


class PushKeysIn(Body):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class PushSubscriptionIn(Body):
    """The browser's PushSubscription.toJSON() (expirationTime is ignored)."""

    endpoint: str = Field(min_length=1, max_length=1000)
    keys: PushKeysIn
    expirationTime: float | None = None  # noqa: N815 (the browser's name)


class VapidKeyOut(Out):
    public_key: str = Field(description="Uncompressed P-256 point, base64url.")


class PushSubscriptionOut(Out):
    id: uuid.UUID
    endpoint: str
    created_at: datetime
    last_success_at: datetime | None


# ----------------------------------------------------------------------- admin


class ApiKeyIn(Body):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(Out):
    id: uuid.UUID
    name: str
    prefix: str
    created_by: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The key itself: shown only once.")


ActionType = Literal[
    "notify", "create_task", "schedule", "log_service", "cancel_service"
]


class TenantSettingsIn(Body):
    """Fields left out stay as they are."""

    approval_required: list[ActionType] | None = Field(
        default=None, max_length=5, description="Action types that need approval."
    )
    purchase_approval_over: float | None = Field(default=None, ge=0, le=10_000_000)
    approver_role: Role | None = None  # admin or manager (checked by the service)
    monthly_token_budget: int | None = Field(default=None, ge=0, le=10_000_000_000)
    model: str | None = Field(
        default=None,
        max_length=120,
        pattern=f"^$|{MODEL_PATTERN}",
        description="A litellm model string (provider/model, e.g. "
        'openai/gpt-4o-mini), a built-in model (switchboard/offline), or "" for '
        "the platform's model. Checked against the providers litellm knows.",
    )
    external_memory: StrictBool | None = Field(
        default=None,
        description="Data policy: whether memory content may be sent to an "
        "external model provider (false: prompts for one carry no memories).",
    )
    currency: str | None = Field(
        default=None,
        pattern="^[A-Z]{3}$",
        description="ISO 4217 code of the organisation's amounts (purchase "
        f"threshold, task costs): one of {', '.join(CURRENCIES)}.",
    )


class TenantSettingsOut(Out):
    approval_required: list[str]
    purchase_approval_over: float
    approver_role: str
    monthly_token_budget: int
    model: str = Field(description='"": the platform\'s model.')
    external_memory: bool
    currency: str
    plan_token_budget: int | None = Field(
        description="The plan's monthly token limit, set by the platform operator "
        "(null: none). The assistant stops at the smaller of it and "
        "monthly_token_budget."
    )
    plan_seats: int | None = Field(
        description="Active accounts the plan allows (null: no limit)."
    )


class UserIn(Body):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=256)
    handle: str | None = Field(default=None, min_length=1, max_length=63)


class UserOut(Out):
    id: uuid.UUID
    handle: str
    email: str
    name: str
    role: str
    disabled: bool
    property_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    created_at: datetime


# -------------------------------------------------------------------- operator


class TenantIn(Body):
    slug: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="other", max_length=40)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    admin_email: str = Field(min_length=3, max_length=254)
    admin_name: str = Field(default="Administrator", max_length=200)
    admin_password: str = Field(min_length=10, max_length=256)


class TenantOut(Out):
    id: uuid.UUID
    slug: str
    name: str
    kind: str
    status: str
    created_at: datetime


class TenantPlanIn(Body):
    """Plan limits; null (or left out) means no limit."""

    token_budget: int | None = Field(default=None, ge=0, le=10_000_000_000)
    seats: int | None = Field(default=None, ge=1, le=1_000_000)


class TenantDetailOut(Out):
    """Counts and sums only: the operator never sees tenant content."""

    id: uuid.UUID
    slug: str
    name: str
    status: str
    users: int
    active_users: int
    tokens_this_month: int
    cost_this_month: float
    monthly_token_budget: int
    plan_token_budget: int | None
    plan_seats: int | None
