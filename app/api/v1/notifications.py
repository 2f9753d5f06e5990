"""/api/v1/notifications: the caller's own notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentActor
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.schemas import CountOut, NotificationOut
from app.services import notifications

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut], responses=AUTH_ERRORS)
async def list_notifications(
    actor: CurrentActor,
    unread: Annotated[bool, Query(description="Only unread ones.")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NotificationOut]:
    """Newest first."""
    rows = await notifications.list_notifications(
        actor, unread_only=unread, limit=limit
    )
    return [NotificationOut.model_validate(n) for n in rows]


@router.post("/read-all", response_model=CountOut, responses=AUTH_ERRORS)
async def mark_all_read(actor: CurrentActor) -> CountOut:
    """Mark every unread notification read; answers how many changed."""
    return CountOut(count=await notifications.mark_all_read(actor))


@router.post(
    "/{notification_id}/read",
    response_model=NotificationOut,
    responses={**AUTH_ERRORS, **errors(404)},
)
async def mark_read(notification_id: uuid.UUID, actor: CurrentActor) -> NotificationOut:
    return NotificationOut.model_validate(
        await notifications.mark_read(actor, notification_id)
    )
