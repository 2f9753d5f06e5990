"""cancel_service: cancel the next occurrence of a property's recurring service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from app.domain.actions.base import (
    ActionInput,
    ActionSpec,
    CheckContext,
    Checked,
    Effects,
    Payload,
    Refused,
    ServiceName,
    Short,
    Slug,
    Text,
    UtcTime,
)
from app.domain.models import Schedule, utcnow
from app.domain.recurrence import RecurrenceError, next_occurrence

_UTC = ZoneInfo("UTC")


class CancelServiceAction(ActionInput):
    """Cancel one occurrence or a period of a property service."""

    type: Literal["cancel_service"]
    property: Slug
    service: ServiceName
    when: Short | None = None
    reason: Text = ""


class CancelServicePayload(Payload):
    property_id: uuid.UUID
    service_id: uuid.UUID
    service_name: str
    starts_at: UtcTime
    reason: str = ""


def check(a: CancelServiceAction, ctx: CheckContext) -> Checked[CancelServicePayload]:
    ctx.staff_only("cancel a service")
    prop, service = ctx.service(a.property, a.service)
    after = ctx.now_local
    if a.when:
        try:
            after = max(after, datetime.fromisoformat(a.when).replace(tzinfo=None))
        except ValueError as exc:
            raise Refused(f"not a date: {a.when!r}", "invalid_time") from exc
    try:
        occurrence = next_occurrence(service.recurrence, ctx.tz, after, inclusive=True)
    except RecurrenceError as exc:
        raise Refused(
            f"{service.name} has no next occurrence", "no_occurrence"
        ) from exc
    payload = CancelServicePayload(
        property_id=prop.id,
        service_id=service.id,
        service_name=service.name,
        starts_at=occurrence.astimezone(_UTC),
        reason=a.reason,
    )
    label = occurrence.strftime("%a %d %b %H:%M")
    return Checked(payload, f"Cancel {service.name} at {prop.name} on {label}")


async def execute(p: CancelServicePayload, fx: Effects) -> dict[str, str]:
    # A cancellation is recorded as a cancelled schedule entry for that period.
    row_id = await fx.insert_once(
        Schedule,
        {
            "title": f"Cancelled: {p.service_name or 'service'}"[:200],
            "kind": "cancellation",
            "starts_at": p.starts_at,
            "audience": [],
            "property_id": p.property_id,
            "created_by": fx.sender_id,
            "status": "cancelled",
            "created_at": utcnow(),
        },
    )
    return {"cancellation": str(row_id)}


SPEC = ActionSpec(
    type="cancel_service",
    order=5,
    label="Cancel a service",
    verb="cancel that service",
    input=CancelServiceAction,
    payload=CancelServicePayload,
    check=check,
    execute=execute,
)
