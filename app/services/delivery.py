"""Notification rows and live events.

Rows are written inside the caller's transaction (PostgreSQL is the truth); once it
has committed, `publish` appends one event per recipient to the tenant's Redis stream
`<prefix>:t:<tenant_id>:events`, from which the app pushes to open sessions and Web
Push. A lost event loses nothing: clients reload notifications from the database.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Notification, utcnow
from app.redis_client import get_redis, tenant_key

log = logging.getLogger(__name__)
STREAM_MAXLEN = 10_000


@dataclass(frozen=True)
class LiveEvent:
    user_id: uuid.UUID
    kind: str
    notification_id: uuid.UUID | None = None
    title: str = ""
    data: dict[str, Any] | None = None


def events_stream(tenant_id: uuid.UUID | str) -> str:
    return tenant_key(tenant_id, "events")


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
) -> list[LiveEvent]:
    """Insert one notification per user (once per dedupe_key: a re-run adds none).
    Returns the events to publish after commit."""
    events: list[LiveEvent] = []
    for user_id in dict.fromkeys(user_ids):
        stmt = (
            insert(Notification)
            .values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body[:2000],
                dedupe_key=dedupe_key[:120],
                data=data or {},
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "dedupe_key", "user_id"]
            )
            .returning(Notification.id)  # type: ignore[arg-type]
        )
        new_id = (await session.execute(stmt)).scalar()
        if new_id is not None:
            events.append(LiveEvent(user_id, kind, new_id, title, data))
    return events


async def publish(tenant_id: uuid.UUID, events: Iterable[LiveEvent]) -> None:
    """After commit: one stream entry per recipient for open apps, and a Web Push
    job for closed ones. Failures are logged, not raised."""
    events = list(events)
    redis = get_redis()
    stream = events_stream(tenant_id)
    try:
        for ev in events:
            await redis.xadd(
                stream,
                {
                    "user_id": str(ev.user_id),
                    "kind": ev.kind,
                    "notification_id": str(ev.notification_id or ""),
                    "title": ev.title,
                    "data": json.dumps(ev.data or {}, default=str),
                },
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
    except Exception:
        log.warning("publishing live events failed", exc_info=True)
    await _queue_push(tenant_id, events)


async def _queue_push(tenant_id: uuid.UUID, events: Iterable[LiveEvent]) -> None:
    from jobs.queue import enqueue_push

    ids = [ev.notification_id for ev in events if ev.notification_id]
    try:
        await enqueue_push(tenant_id, ids)
    except Exception:
        log.warning("queueing web push failed", exc_info=True)
