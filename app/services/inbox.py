"""A user's inbox as the app shows it: the newest notifications and the unread count.

Read on every page that shows the inbox and by every open tab a notification
reaches (state/live.py). A team notification wakes all its members' tabs at once,
and one transaction per tab was most of a live delivery's CPU
(bench/fanout_sockets.py), so concurrent reads of one tenant's inboxes share one
query: one read per tenant runs at a time, and the callers that arrive meanwhile
go together in the next (as the embedding batcher does). Each caller gets only its
own user's rows, inside its own tenant's session.

A tab already showing the inbox needs only what arrived: `arrived` reads the
notifications its live events named (and the count), not the newest 200 again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.core.db import tenant_session
from app.core.loop_local import LoopLocal
from app.domain.actor import Actor
from app.services.notifications import MAX_LIMIT

# The newest `limit` of each user's notifications (the index on tenant, user,
# created_at serves each user's part), then each user's unread count.
_NEWEST = text(
    """
    SELECT u.user_id, n.id, n.kind, n.title, n.body, n.data, n.created_at, n.read_at
    FROM unnest(CAST(:users AS uuid[])) AS u(user_id)
    CROSS JOIN LATERAL (
        SELECT id, kind, title, body, data, created_at, read_at
        FROM notifications
        WHERE tenant_id = :tenant_id AND user_id = u.user_id
        ORDER BY created_at DESC
        LIMIT :limit
    ) AS n
    ORDER BY u.user_id, n.created_at DESC
    """
)
# The notifications named, each of them its own user's only.
_NAMED = text(
    """
    SELECT user_id, id, kind, title, body, data, created_at, read_at
    FROM notifications
    WHERE tenant_id = :tenant_id AND user_id = ANY(CAST(:users AS uuid[]))
      AND id = ANY(CAST(:ids AS uuid[]))
    ORDER BY user_id, created_at DESC
    """
)
_UNREAD = text(
    """
    SELECT user_id, count(*) FROM notifications
    WHERE tenant_id = :tenant_id AND user_id = ANY(CAST(:users AS uuid[]))
      AND read_at IS NULL
    GROUP BY user_id
    """
)


@dataclass(frozen=True)
class InboxItem:
    """One notification as the inbox shows it."""

    id: uuid.UUID
    kind: str
    title: str
    body: str | None
    data: dict[str, Any] | None
    created_at: datetime
    read_at: datetime | None


@dataclass
class Inbox:
    items: list[InboxItem] = field(default_factory=list)  # newest first
    unread: int = 0  # all of the user's unread ones, not only those in items


# `limit` of a read of the notifications named, instead of the newest ones.
NAMED = -1


async def read_inboxes(
    tenant_id: uuid.UUID,
    users: list[uuid.UUID],
    limit: int,
    named: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, Inbox]:
    """The inboxes of `users` of one tenant, in one transaction: the newest `limit`
    notifications of each (NAMED: those of `named` that are theirs) and the unread
    count."""
    params = {
        "tenant_id": tenant_id,
        "users": users,
        "limit": limit,
        "ids": list(named),
    }
    found: dict[uuid.UUID, Inbox] = {user: Inbox() for user in users}
    rows = _NAMED if limit == NAMED else _NEWEST if limit > 0 else None
    async with tenant_session(tenant_id) as s:
        if rows is not None:
            for user_id, *columns in (await s.execute(rows, params)).all():
                found[user_id].items.append(InboxItem(*columns))
        for user_id, unread in (await s.execute(_UNREAD, params)).all():
            found[user_id].unread = int(unread)
    return found


@dataclass
class _Caller:
    done: asyncio.Future[Inbox]
    named: frozenset[uuid.UUID]


_Waiting = dict[uuid.UUID, list[_Caller]]


class _Reads:
    """Per event loop: the callers waiting, by (tenant, limit), and which of those
    have a read running."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[uuid.UUID, int], _Waiting] = {}
        self.running: dict[tuple[uuid.UUID, int], asyncio.Task[None]] = {}

    async def read(
        self, actor: Actor, limit: int, named: Collection[uuid.UUID] = ()
    ) -> Inbox:
        key = (actor.tenant_id, limit)
        caller = _Caller(asyncio.get_running_loop().create_future(), frozenset(named))
        self.waiting.setdefault(key, {}).setdefault(actor.user_id, []).append(caller)
        if key not in self.running:
            self.running[key] = asyncio.create_task(self._drain(key))
        return await caller.done

    async def _drain(self, key: tuple[uuid.UUID, int]) -> None:
        batch: _Waiting = {}
        try:
            while batch := self.waiting.pop(key, {}):
                named = {
                    i for callers in batch.values() for c in callers for i in c.named
                }
                try:
                    found = await read_inboxes(key[0], list(batch), key[1], named)
                except Exception as exc:
                    _settle(batch, exc)
                    continue
                for user_id, callers in batch.items():
                    for caller in callers:
                        if not caller.done.done():
                            caller.done.set_result(_for(caller, found[user_id]))
        except BaseException as exc:  # cancelled with the loop: nobody waits forever
            _settle(batch, exc)
            _settle(self.waiting.pop(key, {}), exc)
            raise
        finally:
            self.running.pop(key, None)


def _for(caller: _Caller, mine: Inbox) -> Inbox:
    """A caller's part of its user's read: of a NAMED read, only what it named (two
    tabs of one person may have seen different events)."""
    if not caller.named:
        return mine
    items = [i for i in mine.items if i.id in caller.named]
    return Inbox(items, mine.unread)


def _settle(batch: _Waiting, exc: BaseException) -> None:
    for callers in batch.values():
        for future in (c.done for c in callers):
            if future.done():
                continue
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)


_reads = LoopLocal(_Reads)


async def inbox(actor: Actor, limit: int = MAX_LIMIT) -> Inbox:
    """The caller's newest notifications (at most `limit`; 0 for the count only)
    and unread count."""
    return await _reads.get().read(actor, max(0, min(limit, MAX_LIMIT)))


async def arrived(actor: Actor, named: Collection[uuid.UUID]) -> Inbox:
    """The caller's notifications among `named` (the ids its live events carried),
    newest first, and its unread count: what a tab showing the inbox adds."""
    if not named:
        return await inbox(actor, 0)
    return await _reads.get().read(actor, NAMED, named)


async def unread_count(actor: Actor) -> int:
    """The badge: what a tab on any other page than the inbox reloads."""
    return (await inbox(actor, 0)).unread
