"""Reading one user's live events from their tenant's Redis stream.

The worker appends LiveEvents to `events_stream(tenant_id)` after commit (see
app/services/delivery.py). A signed-in browser tab follows that stream with
`read_user_events` from a background event (state/live.py): it only ever names the
stream of the caller's own tenant (the Actor's tenant id, taken from the verified
access token) and keeps the entries addressed to the caller's user id.

Nothing here is the source of truth: an event tells the tab to reload from
PostgreSQL; a lost one is made up for by the next load.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.redis_client import get_redis
from app.services.delivery import events_stream

# How long one XREAD waits for an entry before the caller checks that its session
# and tab still exist.
BLOCK_MS = 5_000
MAX_BATCH = 50
# The id of an empty stream: XREAD from here returns every entry.
STREAM_START = "0-0"


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
