"""schedule: an entry in the calendar for an audience, reminded at its start."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, field_validator

from app.domain.actions.base import (
    MAX_RECIPIENTS,
    ActionInput,
    ActionSpec,
    CheckContext,
    Checked,
    Effects,
    MemoryNote,
    Payload,
    Ref,
    Short,
    Slug,
    Title,
    UnitLabel,
    UtcTime,
    check_local_iso,
)
from app.domain.models import Schedule, utcnow

ScheduleKind = Literal[
    "event", "reminder", "service", "entry_permission", "delivery", "meeting"
]


class ScheduleAction(ActionInput):
    """Put an entry in the calendar for an audience (does not notify by itself)."""

    type: Literal["schedule"]
    title: Title
    start: Short = Field(description="tenant-local ISO date-time")
    audience: list[Ref] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    property: Slug | None = None
    unit: UnitLabel | None = None
    kind: ScheduleKind = "event"

    _start = field_validator("start")(check_local_iso)


class SchedulePayload(Payload):
    title: str
    kind: ScheduleKind = "event"
    starts_at: UtcTime
    audience: list[str] = Field(default_factory=list)
    audience_user_ids: list[uuid.UUID] = Field(default_factory=list)
    team_id: uuid.UUID | None = None
    property_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    message: str = ""


def check(a: ScheduleAction, ctx: CheckContext) -> Checked[SchedulePayload]:
    ids = ctx.recipients(a.audience, self_only_ok=True) if a.audience else []
    teams = [ctx.resolve(r).team for r in a.audience if r.startswith("team:")]
    team_id = next((t.id for t in teams if t is not None), None)
    prop, unit_id = ctx.place(a.property, a.unit)
    starts_at = ctx.utc(a.start, "start")
    payload = SchedulePayload(
        title=a.title,
        kind=a.kind,
        starts_at=starts_at,
        audience=list(a.audience),
        audience_user_ids=ids,
        team_id=team_id,
        property_id=prop.id if prop else None,
        unit_id=unit_id,
        message=f"{a.title} ({ctx.local_label(starts_at)})",
    )
    return Checked(payload, f"Schedule: {payload.message}")


async def execute(p: SchedulePayload, fx: Effects) -> dict[str, str]:
    row_id = await fx.insert_once(
        Schedule,
        {
            "title": p.title,
            "kind": p.kind,
            "starts_at": p.starts_at,
            "audience": list(p.audience),
            "team_id": p.team_id,
            "property_id": p.property_id,
            "unit_id": p.unit_id,
            "created_by": fx.sender_id,
            "status": "active",
            "created_at": utcnow(),
        },
    )
    fx.remind(row_id, p.starts_at)
    await fx.notify(
        p.audience_user_ids,
        kind="schedule",
        title=p.title,
        body=p.message or p.title,
        data={"starts_at": p.starts_at.isoformat()},
    )
    return {"schedule": str(row_id)}


def memory(p: SchedulePayload, note: MemoryNote) -> str:
    return f"Scheduled: {p.message}"


SPEC = ActionSpec(
    type="schedule",
    order=3,
    label="Schedule",
    verb="schedule that",
    input=ScheduleAction,
    payload=SchedulePayload,
    check=check,
    execute=execute,
    memory=memory,
)
