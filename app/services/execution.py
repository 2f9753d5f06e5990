"""Running a validated action: tasks, schedules, service logs and notifications.

Input is the *resolved* payload the policy produced (ids inside the tenant, times in
UTC) and stored with the action; approval executes exactly that payload, checked
against its hash. Every write carries source_action_id (unique per tenant), so
running an action twice writes it once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import (
    ActionStatus,
    ProposedAction,
    Schedule,
    ServiceLog,
    Task,
    utcnow,
)
from app.services.delivery import LiveEvent, notify_users

ACTION_TYPES = ("notify", "create_task", "schedule", "log_service", "cancel_service")


def payload_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ExecutionResult:
    events: list[LiveEvent] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # kind → row id
    schedules: list[tuple[uuid.UUID, datetime]] = field(default_factory=list)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _uuids(values: Any) -> list[uuid.UUID]:
    return [uuid.UUID(str(v)) for v in values or []]


async def _insert_once(
    session: AsyncSession, model: Any, values: dict[str, Any]
) -> Any:
    stmt = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "source_action_id"])
        .returning(model.id)
    )
    return (await session.execute(stmt)).scalar()


async def execute_action(
    session: AsyncSession,
    action: ProposedAction,
    *,
    sender_id: uuid.UUID | None,
    dedupe_key: str,
    message_id: uuid.UUID | None,
) -> ExecutionResult:
    """Perform `action` inside the caller's transaction and mark it executed."""
    p = action.payload
    tid = action.tenant_id
    result = ExecutionResult()
    data = {
        "message_id": str(message_id) if message_id else None,
        "action": action.type,
    }

    def recipients(ids: list[uuid.UUID]) -> list[uuid.UUID]:
        return [u for u in ids if u != sender_id]  # nobody is told of their own news

    if action.type == "notify":
        result.events += await notify_users(
            session,
            tid,
            recipients(_uuids(p.get("recipient_user_ids"))),
            kind="notify",
            title=p.get("title") or "New message",
            body=p.get("message", ""),
            dedupe_key=dedupe_key,
            data=data,
        )
    elif action.type == "create_task":
        row_id = await _insert_once(
            session,
            Task,
            {
                "tenant_id": tid,
                "id": uuid.uuid4(),
                "title": p["title"],
                "details": p.get("details", ""),
                "assignee_user_id": _uuid(p.get("assignee_user_id")),
                "assignee_team_id": _uuid(p.get("assignee_team_id")),
                "property_id": _uuid(p.get("property_id")),
                "unit_id": _uuid(p.get("unit_id")),
                "due_at": _dt(p.get("due_at")),
                "priority": p.get("priority", "normal"),
                "status": "open",
                "created_by": sender_id,
                "source_action_id": action.id,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
        result.created["task"] = str(row_id)
    elif action.type == "schedule":
        starts_at = _dt(p.get("starts_at"))
        row_id = await _insert_once(
            session,
            Schedule,
            {
                "tenant_id": tid,
                "id": uuid.uuid4(),
                "title": p["title"],
                "kind": p.get("kind", "event"),
                "starts_at": starts_at,
                "audience": list(p.get("audience") or []),
                "team_id": _uuid(p.get("team_id")),
                "property_id": _uuid(p.get("property_id")),
                "unit_id": _uuid(p.get("unit_id")),
                "created_by": sender_id,
                "source_action_id": action.id,
                "status": "active",
                "created_at": utcnow(),
            },
        )
        result.created["schedule"] = str(row_id)
        if row_id is not None and starts_at is not None:
            result.schedules.append((row_id, starts_at))
        result.events += await notify_users(
            session,
            tid,
            recipients(_uuids(p.get("audience_user_ids"))),
            kind="schedule",
            title=p["title"],
            body=p.get("message") or p["title"],
            dedupe_key=dedupe_key,
            data={**data, "starts_at": p.get("starts_at")},
        )
    elif action.type == "log_service":
        row_id = await _insert_once(
            session,
            ServiceLog,
            {
                "tenant_id": tid,
                "id": uuid.uuid4(),
                "property_id": _uuid(p.get("property_id")),
                "service_id": _uuid(p.get("service_id")),
                "service_name": p.get("service_name", ""),
                "note": p.get("note", ""),
                "performed_by": sender_id,
                "performed_at": utcnow(),
                "source_action_id": action.id,
            },
        )
        result.created["service_log"] = str(row_id)
    elif action.type == "cancel_service":
        # A cancellation is recorded as a cancelled schedule entry for that period.
        row_id = await _insert_once(
            session,
            Schedule,
            {
                "tenant_id": tid,
                "id": uuid.uuid4(),
                "title": f"Cancelled: {p.get('service_name', 'service')}"[:200],
                "kind": "cancellation",
                "starts_at": _dt(p.get("starts_at")),
                "audience": [],
                "property_id": _uuid(p.get("property_id")),
                "created_by": sender_id,
                "source_action_id": action.id,
                "status": "cancelled",
                "created_at": utcnow(),
            },
        )
        result.created["cancellation"] = str(row_id)
    else:  # validation never lets one through; refuse rather than guess
        raise ValueError(f"unknown action type {action.type!r}")

    action.status = ActionStatus.executed.value
    action.executed_at = utcnow()
    action.result = result.created
    session.add(action)
    return result
