"""Vectors for a turn's new memories, filled in after the turn has committed.

A turn stores its memories of what ran without vectors and hands them here once its
reply is committed (the sender's statement keeps the message's own vector, computed
for retrieval: agents/runner.py `_memories`), so the sender's reply does not wait
for the forward passes (about 8 ms of CPU for a new sentence alone, about 3 ms each
in a batch), and the memories of turns that end close together share one batch
(agents/embeddings.py). A round waits while turns are using the worker's CPU
(app/core/turn_priority.py), for at most a quarter of a second: replies first, and a
busy worker embeds in bigger, cheaper batches.

Until its vector lands, milliseconds later, a memory is found by full-text retrieval
only. What a stopped or failing worker leaves without a vector, the sweeper fills
(app/services/memories.py `embed_pending_memories`, for memories older than its
grace); `store_vectors` only fills a NULL, so the two never overwrite each other.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextvars import Context

from app.core import turn_priority
from app.core.loop_local import LoopLocal
from app.services.memories import store_vectors

log = logging.getLogger(__name__)

# (memory id, text) per tenant
Pending = dict[uuid.UUID, list[tuple[uuid.UUID, str]]]


class _Backfill:
    """One event loop's memories waiting for vectors, embedded in rounds: what
    arrives while a round runs goes together in the next."""

    def __init__(self) -> None:
        self.pending: Pending = {}
        self.task: asyncio.Task[None] | None = None

    def add(self, tenant_id: uuid.UUID, memories: list[tuple[uuid.UUID, str]]) -> None:
        self.pending.setdefault(tenant_id, []).extend(memories)
        if self.task is None or self.task.done():
            # Its own context: a round serves many turns, and must not log or be
            # counted as the one that happened to start it.
            self.task = asyncio.create_task(self._rounds(), context=Context())

    async def _rounds(self) -> None:
        while self.pending:
            await turn_priority.after_turns()
            round_, self.pending = self.pending, {}
            # Concurrent calls: the embedding batcher joins them into one.
            await asyncio.gather(
                *(_fill_quietly(t, memories) for t, memories in round_.items())
            )


_backfills = LoopLocal(_Backfill)


async def embed_later(
    tenant_id: uuid.UUID, memories: list[tuple[uuid.UUID, str]]
) -> None:
    """Queue committed memories (id, text) for their vectors; returns at once."""
    if memories:
        _backfills.get().add(tenant_id, memories)


async def drain() -> None:
    """Wait until this event loop's queued memories have their vectors (or have
    failed, for the sweeper): a worker stopping, a test reading vectors."""
    backfill = _backfills.peek()
    while backfill is not None and backfill.task and not backfill.task.done():
        await asyncio.shield(backfill.task)


async def _fill_quietly(
    tenant_id: uuid.UUID, memories: list[tuple[uuid.UUID, str]]
) -> None:
    try:
        await store_vectors(tenant_id, memories)
    except Exception:
        log.warning("memory embedding failed; left for the sweeper", exc_info=True)
