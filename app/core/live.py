"""Live events: the tenant's Redis stream that tells open apps something changed.

Writing: a service that creates notification rows calls `emit(session, ...)`; the
events go out (`publish`: XADD on `<prefix>:t:<tenant_id>:events`, then a Web Push
job) once that transaction has committed, and not at all if it rolls back.

Reading: a signed-in browser tab follows the stream with `read_user_events` from a
background event (state/live.py): it only ever names the stream of the caller's own
tenant (the Actor's tenant id, taken from the verified access token) and keeps the
entries addressed to the caller's user id.

Nothing here is the source of truth: an event tells the tab to reload from
PostgreSQL; a lost one is made up for by the next load.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import per_transaction
from app.core.queue import enqueue_push
from app.core.redis_client import get_redis, tenant_key

log = logging.getLogger(__name__)
STREAM_MAXLEN = 10_000

# How long one XREAD waits for an entry before the caller checks that its session
# and tab still exist.
BLOCK_MS = 5_000
MAX_BATCH = 50
# The id of an empty stream: XREAD from here returns every entry.
STREAM_START = "0-0"


@dataclass(frozen=True)
class LiveEvent:
    """Something one user should see now (a notification row, a reply)."""

    user_id: uuid.UUID
    kind: str
    notification_id: uuid.UUID | None = None
    title: str = ""
    data: dict[str, Any] | None = None


def events_stream(tenant_id: uuid.UUID | str) -> str:
    return tenant_key(tenant_id, "events")


def emit(
    session: AsyncSession, tenant_id: uuid.UUID, events: Iterable[LiveEvent]
) -> None:
    """Publish `events` once the session's transaction has committed (one batch
    per transaction and tenant)."""
    events = list(events)
    if not events:
        return
    batch = per_transaction(
        session, f"live:{tenant_id}", list, lambda evs: publish(tenant_id, evs)
    )
    batch.extend(events)


async def publish(tenant_id: uuid.UUID, events: Iterable[LiveEvent]) -> None:
    """One stream entry per recipient for open apps, and a Web Push job for closed
    ones. Call after commit (emit does); failures are logged, not raised."""
    events = list(events)
    if not events:
        return
    stream = events_stream(tenant_id)
    try:
        async with get_redis().pipeline(transaction=False) as pipe:
            for ev in events:
                pipe.xadd(
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
            await pipe.execute()
    except Exception:
        log.warning("publishing live events failed", exc_info=True)
    ids = [ev.notification_id for ev in events if ev.notification_id]
    try:
        await enqueue_push(tenant_id, ids)
    except Exception:
        log.warning("queueing web push failed", exc_info=True)


@dataclass(frozen=True)
class UserEvent:
    """One stream entry for the reading user."""

    entry_id: str
    kind: str
    title: str = ""
    notification_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)


async def stream_tail(tenant_id: uuid.UUID) -> str:
    """The id of the newest entry of the tenant's stream (or the start): reading from
    here returns only what is published from now on."""
    newest = await get_redis().xrevrange(events_stream(tenant_id), count=1)
    return str(newest[0][0]) if newest else STREAM_START


def _decode(entry_id: str, fields: dict[str, str]) -> UserEvent:
    try:
        data = json.loads(fields.get("data") or "{}")
    except ValueError:
        data = {}
    return UserEvent(
        entry_id=entry_id,
        kind=fields.get("kind", ""),
        title=fields.get("title", ""),
        notification_id=fields.get("notification_id", ""),
        data=data if isinstance(data, dict) else {},
    )


async def read_user_events(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    after: str,
    block_ms: int = BLOCK_MS,
) -> tuple[str, list[UserEvent]]:
    """Wait up to `block_ms` for entries after `after` in the tenant's stream.

    Returns the id to continue from (past entries for other users too, so they are
    never read twice) and the entries addressed to `user_id`, oldest first.
    """
    stream = events_stream(tenant_id)
    reply = await get_redis().xread(
        {stream: after or STREAM_START}, count=MAX_BATCH, block=max(1, block_ms)
    )
    last = after or STREAM_START
    mine: list[UserEvent] = []
    wanted = str(user_id)
    for _name, entries in reply or []:
        for entry_id, fields in entries:
            last = str(entry_id)
            if fields.get("user_id") == wanted:
                mine.append(_decode(last, fields))
    return last, mine
