"""A turn's memories get their vectors after it commits; what fails is left to the
sweeper, which leaves memories still being embedded alone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text as sql

from app.core.db import tenant_session
from app.services import memories, memory_vectors
from app.services.sweeper import EMBED_GRACE_S


async def _store(tenant_id: uuid.UUID, *texts: str) -> list[tuple[uuid.UUID, str]]:
    async with tenant_session(tenant_id) as s:
        return await memories.remember_all(
            s,
            tenant_id,
            [
                {
                    "scope": "tenant",
                    "text": t,
                    "source_type": "test",
                    "source_id": uuid.uuid4().hex,
                }
                for t in texts
            ],
        )


async def _has_vector(tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> list[bool]:
    async with tenant_session(tenant_id) as s:
        rows = (
            await s.execute(
                sql(
                    "SELECT id, embedding IS NOT NULL FROM memories "
                    "WHERE tenant_id = :t AND id = ANY(:ids)"
                ),
                {"t": tenant_id, "ids": ids},
            )
        ).all()
    found = dict(rows)
    return [found[i] for i in ids]


async def test_committed_memories_of_two_tenants_get_their_vectors(demo: Any) -> None:
    bistro = demo.user("harbor-bistro", "maya").tenant_id
    court = demo.user("maple-court", "grace").tenant_id
    a = await _store(bistro, "The ice machine at the bar was descaled")
    b = await _store(court, "Elm House side gate lock replaced", "Boiler serviced")
    assert [text for _, text in b] == [
        "Elm House side gate lock replaced",
        "Boiler serviced",
    ]
    await memory_vectors.embed_later(bistro, a)
    await memory_vectors.embed_later(court, b)
    await memory_vectors.drain()
    assert await _has_vector(bistro, [i for i, _ in a]) == [True]
    assert await _has_vector(court, [i for i, _ in b]) == [True, True]


async def test_a_stored_memory_is_not_reported_twice(demo: Any) -> None:
    tid = demo.user("harbor-bistro", "maya").tenant_id
    row = {"scope": "tenant", "text": "Walk-in fridge at 3C", "source_type": "test"}
    row["source_id"] = uuid.uuid4().hex
    async with tenant_session(tid) as s:
        first = await memories.remember_all(s, tid, [row])
    async with tenant_session(tid) as s:
        again = await memories.remember_all(s, tid, [row])
    # The second id never became a row: filling it changes nothing.
    await memories.store_vectors(tid, again)
    assert await _has_vector(tid, [first[0][0]]) == [False]
    await memories.store_vectors(tid, first)
    assert await _has_vector(tid, [first[0][0]]) == [True]


async def test_a_failed_embedding_is_left_to_the_sweeper(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = demo.user("harbor-bistro", "maya").tenant_id
    stored = await _store(tid, "Delivery door code changed on Monday")
    ids = [i for i, _ in stored]

    async def unavailable(texts: list[str], **_: Any) -> list[list[float]]:
        raise ConnectionError("embedding service down")

    with monkeypatch.context() as m:
        m.setattr(memories, "embed_texts", unavailable)
        await memory_vectors.embed_later(tid, stored)
        await memory_vectors.drain()  # logged, not raised
    assert await _has_vector(tid, ids) == [False]
    # Within the grace it may still be on its way: the sweeper leaves it.
    await memories.embed_pending_memories(tid, EMBED_GRACE_S)
    assert await _has_vector(tid, ids) == [False]
    assert await memories.embed_pending_memories(tid, 0) >= 1
    assert await _has_vector(tid, ids) == [True]
