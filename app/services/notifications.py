"""Notifications: writing them for recipients (with live delivery after commit),
and a user's own inbox (list, mark read)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, literal_column, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.core.live import LiveEvent, emit
from app.domain.actor import Actor
from app.domain.limits import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from app.domain.models import Notification, table, utcnow
from app.services.access import access_notification

MAX_LIMIT = 200
PREVIEW_CHARS = 120
_notifications = table(Notification)
# Once per (dedupe key, user): returns (user_id, id, has a push subscription) of
# the rows it added. Most people without the installed app have none, and their
# notifications need no Web Push job at all.
_INSERT = (
    insert(_notifications)
    .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key", "user_id"])
    .returning(
        _notifications.c.user_id,
        _notifications.c.id,
        # Written out: SQLAlchemy does not correlate a subquery in RETURNING.
        literal_column(
            "EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.tenant_id ="
            " notifications.tenant_id AND p.user_id = notifications.user_id)",
            Boolean,
        ).label("subscribed"),
    )
)


async def notify_users(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    *,
    kind: str,
    title: str,
    body: str,
    dedupe_key: str,
    data: dict[str, Any] | None = None,
) -> list[uuid.UUID]:
    """Insert one notification per user, inside the caller's transaction (once per
    dedupe_key: a re-run adds none); each new one goes out live after commit.
    Returns the ids of the new ones."""
    recipients = list(dict.fromkeys(user_ids))
    if not recipients:
        return []
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "id": uuid.uuid4(),
            "user_id": user_id,
            "kind": kind,
            "title": title[:MAX_TITLE_CHARS],
            "body": body[:MAX_TEXT_CHARS],
            "dedupe_key": dedupe_key[:120],
            "data": data or {},
            "created_at": now,
        }
        for user_id in recipients
    ]
    # One statement for the whole audience (a team of 30 is one round trip).
    conn = await session.connection()
    result = await conn.execute(_INSERT, rows)
    new = {user_id: (row_id, subscribed) for user_id, row_id, subscribed in result}
    # The toast in an open app says what arrived, not only who sent it.
    payload = {**(data or {}), **({"preview": body[:PREVIEW_CHARS]} if body else {})}
    events = [
        LiveEvent(user_id, kind, new[user_id][0], title, dict(payload), new[user_id][1])
        for user_id in recipients
        if user_id in new
    ]
    emit(session, tenant_id, events)
    return [ev.notification_id for ev in events if ev.notification_id]


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
