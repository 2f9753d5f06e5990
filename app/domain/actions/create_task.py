"""create_task: a task for a person or a team (a report, a purchase, a job)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, field_validator

from app.domain.actions.base import (
    ActionInput,
    ActionSpec,
    CheckContext,
    Checked,
    Effects,
    MemoryNote,
    Payload,
    Ref,
    Refused,
    Short,
    Slug,
    Text,
    Title,
    UnitLabel,
    UtcTime,
    check_local_iso,
)
from app.domain.models import Task, utcnow
from app.domain.money import format_money
from app.domain.tenant_policy import TenantPolicy

Priority = Literal["low", "normal", "high", "urgent"]


class CreateTaskAction(ActionInput):
    """Create a task for a person or team (does not notify anyone by itself)."""

    type: Literal["create_task"]
    title: Title
    details: Text = ""
    assignee: Ref | None = None
    due: Short | None = Field(default=None, description="tenant-local ISO or null")
    property: Slug | None = None
    unit: UnitLabel | None = None
    priority: Priority = "normal"
    cost: float | None = Field(default=None, ge=0, le=10_000_000)

    _due = field_validator("due")(check_local_iso)


class CreateTaskPayload(Payload):
    title: str
    details: str = ""
    assignee_user_id: uuid.UUID | None = None
    assignee_team_id: uuid.UUID | None = None
    assignee_ref: str | None = None
    due_at: UtcTime | None = None
    property_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    priority: Priority = "normal"
    cost: float | None = None


def check(a: CreateTaskAction, ctx: CheckContext) -> Checked[CreateTaskPayload]:
    assignee_user = assignee_team = None
    if a.assignee:
        target = ctx.resolve(a.assignee)
        if target.kind == "user" and target.person is not None:
            if ctx.is_resident and not target.person.is_staff:
                raise Refused("residents can only ask staff for help", "role")
            assignee_user = target.person.id
        elif target.kind == "team" and target.team is not None:
            assignee_team = target.team.id
        else:
            raise Refused("a task is assigned to one person or one team", "invalid")
    prop, unit_id = ctx.place(a.property, a.unit)
    payload = CreateTaskPayload(
        title=a.title,
        details=a.details,
        assignee_user_id=assignee_user,
        assignee_team_id=assignee_team,
        assignee_ref=a.assignee,
        due_at=ctx.utc(a.due, "due") if a.due else None,
        property_id=prop.id if prop else None,
        unit_id=unit_id,
        priority=a.priority,
        cost=a.cost,
    )
    return Checked(payload, f"Task: {a.title}")


def approval(a: CreateTaskAction, policy: TenantPolicy) -> str | None:
    if a.cost is not None and a.cost > policy.purchase_approval_over:
        return (
            "purchases over "
            f"{format_money(policy.purchase_approval_over, policy.currency)} need a "
            f"{policy.approver_role}'s approval"
        )
    return None


async def execute(p: CreateTaskPayload, fx: Effects) -> dict[str, str]:
    if p.property_id is not None and p.cost is None:
        # A second report of a problem at the same place (by the same person or a
        # neighbour) joins the open task: one job, everyone who asked hears back.
        # A purchase is never merged: two purchases are two requests.
        existing = await fx.open_task_like(p.title, p.property_id, p.unit_id)
        if existing is not None:
            return {"task": str(existing), "linked": "1"}
    now = utcnow()
    row_id = await fx.insert_once(
        Task,
        {
            "title": p.title,
            "details": p.details,
            "assignee_user_id": p.assignee_user_id,
            "assignee_team_id": p.assignee_team_id,
            "property_id": p.property_id,
            "unit_id": p.unit_id,
            "due_at": p.due_at,
            "priority": p.priority,
            "status": "open",
            "created_by": fx.sender_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    return {"task": str(row_id)}


def memory(p: CreateTaskPayload, note: MemoryNote) -> str:
    return f"Task created for {p.assignee_ref or 'staff'}: {p.title}"


SPEC = ActionSpec(
    type="create_task",
    order=2,
    label="Create a task",
    verb="create that task",
    input=CreateTaskAction,
    payload=CreateTaskPayload,
    check=check,
    execute=execute,
    approval=approval,
    memory=memory,
)
