"""log_service: record that a property's recurring service was performed."""

from __future__ import annotations

import uuid
from typing import Literal

from app.domain.actions.base import (
    ActionInput,
    ActionSpec,
    CheckContext,
    Checked,
    Effects,
    MemoryNote,
    Payload,
    ServiceName,
    Slug,
    Text,
)
from app.domain.models import ServiceLog, utcnow


class LogServiceAction(ActionInput):
    """Record that a property service was performed."""

    type: Literal["log_service"]
    property: Slug
    service: ServiceName
    note: Text = ""


class LogServicePayload(Payload):
    property_id: uuid.UUID
    service_id: uuid.UUID
    service_name: str
    note: str = ""


def check(a: LogServiceAction, ctx: CheckContext) -> Checked[LogServicePayload]:
    ctx.staff_only("log a service")
    prop, service = ctx.service(a.property, a.service)
    payload = LogServicePayload(
        property_id=prop.id,
        service_id=service.id,
        service_name=service.name,
        note=a.note,
    )
    return Checked(payload, f"Log {service.name} at {prop.name}")


async def execute(p: LogServicePayload, fx: Effects) -> dict[str, str]:
    row_id = await fx.insert_once(
        ServiceLog,
        {
            "property_id": p.property_id,
            "service_id": p.service_id,
            "service_name": p.service_name,
            "note": p.note,
            "performed_by": fx.sender_id,
            "performed_at": utcnow(),
        },
    )
    return {"service_log": str(row_id)}


def memory(p: LogServicePayload, note: MemoryNote) -> str:
    return f"{p.service_name} was done ({note.sender_name}, {note.day}). {p.note}"


SPEC = ActionSpec(
    type="log_service",
    order=4,
    label="Log a service",
    verb="log that service",
    input=LogServiceAction,
    payload=LogServicePayload,
    check=check,
    execute=execute,
    memory=memory,
)
