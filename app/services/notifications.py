"""A user's notifications: list and mark read (only ever their own)."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import col, select

from app.context import Actor
from app.db import tenant_session
from app.models import Notification, utcnow
from app.services.access import access_notification

MAX_LIMIT = 200


async def list_notifications(
    actor: Actor, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    async with tenant_session(actor.tenant_id) as s:
        stmt = select(Notification).where(
            Notification.tenant_id == actor.tenant_id,
            Notification.user_id == actor.user_id,
        )
        if unread_only:
            stmt = stmt.where(col(Notification.read_at).is_(None))
        stmt = stmt.order_by(col(Notification.created_at).desc()).limit(
            max(1, min(limit, MAX_LIMIT))
        )
        return list((await s.exec(stmt)).all())


async def mark_read(actor: Actor, notification_id: uuid.UUID) -> Notification:
    async with tenant_session(actor.tenant_id) as s:
        row = await access_notification(s, actor, notification_id)
        if row.read_at is None:
            row.read_at = utcnow()
            s.add(row)
    return row


async def mark_all_read(actor: Actor) -> int:
    async with tenant_session(actor.tenant_id) as s:
        result = await s.exec(
            update(Notification)
            .where(
                col(Notification.tenant_id) == actor.tenant_id,
                col(Notification.user_id) == actor.user_id,
                col(Notification.read_at).is_(None),
            )
            .values(read_at=utcnow())
        )
        return int(result.rowcount or 0)
