"""Live events: the tenant's Redis stream that tells open apps something changed.

Writing: a service that creates notification rows calls `emit(session, ...)`; the
events go out (`publish`: XADD on `<prefix>:t:<tenant_id>:events`, then a Web Push
job) once that transaction has committed, and not at all if it rolls back.

Reading: one reader per backend process and tenant (`LiveHub`), fanning out in
memory to that process's open tabs. A tab subscribes (state/live.py) with the
caller's own tenant (the Actor's tenant id, taken from the verified access token) and
user id, and only ever receives the entries addressed to that user. The tenant's
reader runs while at least one tab of that tenant is subscribed, so a tenant's
stream is read once per process, not once per tab: the cost grows with events, not
tabs x events, and a process holds one blocked Redis connection per active tenant.

Nothing here is the source of truth: an event tells the tab to reload from
PostgreSQL; a lost one is made up for by the next load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import metrics
from app.core.db import per_transaction
from app.core.loop_local import LoopLocal
from app.core.queue import enqueue_push
from app.core.redis_client import get_redis, tenant_key

log = logging.getLogger(__name__)
STREAM_MAXLEN = 10_000

# How long one XREAD waits for an entry before the caller checks that its session
# and tab still exist.
BLOCK_MS = 5_000
MAX_BATCH = 50
# A tenant reader takes up to this many entries per XREAD (one burst, one call).
READ_BATCH = 500
# A reconnecting tab catches up on at most this many entries it missed.
CATCH_UP_MAX = 1_000
# Entries waiting for a tab that does not take them: past this the oldest are
# dropped (an event is only a hint to reload; the next load shows everything).
MAX_PENDING = 1_000
RETRY_DELAY_S = 1.0
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
    # False when the recipient had no push subscription as the row was written:
    # no Web Push job for it (the sweeper still pushes one a subscription made
    # meanwhile would have received: push_sender.unpushed).
    push: bool = True


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
    published = 0
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
        published = len(events)
    except Exception:
        log.warning("publishing live events failed", exc_info=True)
    ids = [ev.notification_id for ev in events if ev.notification_id]
    pushed = [ev.notification_id for ev in events if ev.notification_id and ev.push]
    # Every new notification row comes through here once, after its commit.
    await metrics.count_many(
        [
            (metrics.NOTIFICATIONS, {"channel": "inbox"}, len(ids)),
            (metrics.NOTIFICATIONS, {"channel": "live"}, published),
        ]
    )
    try:
        await enqueue_push(tenant_id, pushed)
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


def entry_order(entry_id: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence), not as strings."""
    ms, _, seq = (entry_id or STREAM_START).partition("-")
    return int(ms), int(seq or 0)


@dataclass
class _Reader:
    task: asyncio.Task[None] | None = None
    position: str = STREAM_START
    # user id (str, as in the stream) -> the subscriptions of that user's tabs
    users: dict[str, set[Subscription]] = field(default_factory=dict)
    reads: int = 0


class Subscription:
    """One tab's view of its tenant's stream: the entries for one user, in order,
    each once. Filled by the tenant's reader (`LiveHub`); read with `next_batch`."""

    def __init__(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, after: str, reader: _Reader
    ) -> None:
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.after = after
        self._reader = reader
        self.dropped = 0
        self._pending: list[UserEvent] = []
        self._ready = asyncio.Event()

    def deliver(self, event: UserEvent) -> None:
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(0)
            self.dropped += 1
        self._pending.append(event)
        self._ready.set()

    async def next_batch(
        self, timeout_s: float = BLOCK_MS / 1000
    ) -> tuple[str, list[UserEvent]]:
        """Wait up to `timeout_s` for entries; returns the id to continue from (for a
        later subscription: a reconnect) and the new entries, oldest first."""
        if not self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout_s)
        self._ready.clear()
        # The catch-up read and the tenant reader may both hand over an entry, and
        # in either order.
        self._pending.sort(key=lambda e: entry_order(e.entry_id))
        taken, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        fresh: list[UserEvent] = []
        for ev in taken:
            if entry_order(ev.entry_id) > entry_order(self.after):
                fresh.append(ev)
                self.after = ev.entry_id
        if self._pending:
            self._ready.set()
        elif entry_order(self._reader.position) > entry_order(self.after):
            # Everything up to the reader's position that was for this user has
            # been handed over: a reconnect need not read other users' entries.
            self.after = self._reader.position
        return self.after, fresh


class LiveHub:
    """One reader per tenant stream for this process, fanning out in memory.

    A tenant's reader starts with its first subscription and stops (its XREAD is
    cancelled) when the last one leaves. Per event loop: see `live_hub`.
    """

    def __init__(self) -> None:
        self.readers: dict[uuid.UUID, _Reader] = {}
        # Open tabs per tenant go to Redis for /api/metrics (app/core/metrics.py):
        # on every change, coalesced, and refreshed by the readers' loops.
        self.process = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._reporting: asyncio.Task[None] | None = None
        self._dirty = False
        self._reported_at = 0.0

    def open_tabs(self) -> dict[str, int]:
        return {str(t): self.subscribers(t) for t in self.readers}

    def report(self) -> None:
        """Send the open tab counts soon (one report in flight at a time)."""
        self._dirty = True
        if self._reporting is None or self._reporting.done():
            # RuntimeError: the loop is closing, nothing is left to count.
            with contextlib.suppress(RuntimeError):
                self._reporting = asyncio.create_task(self._send_reports())

    async def _send_reports(self) -> None:
        while self._dirty:
            self._dirty = False
            self._reported_at = time.monotonic()
            await metrics.report_live(self.process, self.open_tabs())

    def _refresh(self) -> None:
        if time.monotonic() - self._reported_at > metrics.LIVE_TTL_S / 4:
            self.report()

    def subscribers(self, tenant_id: uuid.UUID) -> int:
        reader = self.readers.get(tenant_id)
        return sum(len(s) for s in reader.users.values()) if reader else 0

    async def add(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, after: str = ""
    ) -> Subscription:
        """Register a tab; `after` = the last entry it saw ("" = from now on). Then
        `catch_up` reads what lies between `after` and now, so a page change or a
        reconnect loses nothing."""
        if tenant_id not in self.readers:
            # Where a new reader starts is fixed before the subscription counts,
            # so nothing published from here on can fall between the two.
            try:
                start = await stream_tail(tenant_id)
            except Exception:
                log.warning("live events: stream tail unavailable", exc_info=True)
                start = ""
            if tenant_id not in self.readers:  # another tab may have started it
                reader = _Reader(position=start)
                self.readers[tenant_id] = reader
                reader.task = asyncio.create_task(self._read(tenant_id, reader))
        reader = self.readers[tenant_id]
        sub = Subscription(tenant_id, user_id, after or reader.position, reader)
        reader.users.setdefault(str(user_id), set()).add(sub)
        self.report()
        return sub

    def remove(self, sub: Subscription) -> None:
        reader = self.readers.get(sub.tenant_id)
        if reader is None:
            return
        tabs = reader.users.get(str(sub.user_id), set())
        tabs.discard(sub)
        if not tabs:
            reader.users.pop(str(sub.user_id), None)
        if not reader.users:
            del self.readers[sub.tenant_id]
            if reader.task is not None:
                reader.task.cancel()
        self.report()

    async def catch_up(self, sub: Subscription) -> None:
        try:
            entries = await get_redis().xrange(
                events_stream(sub.tenant_id), f"({sub.after}", "+", count=CATCH_UP_MAX
            )
        except Exception:
            log.warning("live events: catch-up read failed", exc_info=True)
            return
        wanted = str(sub.user_id)
        for entry_id, fields in entries:
            if fields.get("user_id") == wanted:
                sub.deliver(_decode(str(entry_id), fields))

    async def _read(self, tenant_id: uuid.UUID, reader: _Reader) -> None:
        stream = events_stream(tenant_id)
        while True:
            self._refresh()
            try:
                if not reader.position:
                    reader.position = await stream_tail(tenant_id)
                reader.reads += 1
                reply = await get_redis().xread(
                    {stream: reader.position}, count=READ_BATCH, block=BLOCK_MS
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live events: stream read failed", exc_info=True)
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            for _name, entries in reply or []:
                for entry_id, fields in entries:
                    reader.position = str(entry_id)
                    for sub in reader.users.get(fields.get("user_id", ""), ()):
                        sub.deliver(_decode(reader.position, fields))


_hubs = LoopLocal(LiveHub)


def live_hub() -> LiveHub:
    """This process's hub (one per event loop: tests run several loops)."""
    return _hubs.get()


@contextlib.asynccontextmanager
async def subscribe(
    tenant_id: uuid.UUID, user_id: uuid.UUID, after: str = ""
) -> AsyncIterator[Subscription]:
    """The entries of `tenant_id`'s stream addressed to `user_id`, for as long as
    the block runs."""
    hub = live_hub()
    sub = await hub.add(tenant_id, user_id, after)
    try:
        if after:
            await hub.catch_up(sub)
        yield sub
    finally:
        hub.remove(sub)
