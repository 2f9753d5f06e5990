"""A message job frees its tenant's concurrency slot however it ends: handed over
with the tenant's next message, on a failed turn before its retry, and when the
hand-over itself fails (Redis is a transport: the sweeper refills the queue)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from arq import Retry

import jobs.tasks
from app.core.queue import message_job_id
from app.core.redis_client import get_redis
from jobs.fairness import inflight_key


@pytest.fixture
def tenant(stack: None) -> uuid.UUID:
    return uuid.uuid4()  # a tenant of its own: no other test's slots


async def _run(tenant: uuid.UUID) -> str:
    message = uuid.uuid4()
    ctx = {"job_id": message_job_id(message), "job_try": 1}
    return await jobs.tasks.process_message(ctx, str(tenant), str(message))


async def _slots(tenant: uuid.UUID) -> int:
    return int(await get_redis().zcard(inflight_key(tenant)))


async def test_a_finished_turn_frees_its_slot(
    tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    async def turn(*args: Any, **kwargs: Any) -> str:
        seen.append(await _slots(tenant))
        return "done"

    monkeypatch.setattr(jobs.tasks, "handle_message", turn)
    assert await _run(tenant) == "done"
    assert seen == [1]  # held while the turn ran
    assert await _slots(tenant) == 0


async def test_a_failed_turn_frees_its_slot_before_its_retry(
    tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def turn(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("model down")

    monkeypatch.setattr(jobs.tasks, "handle_message", turn)
    with pytest.raises(Retry):
        await _run(tenant)
    assert await _slots(tenant) == 0


async def test_a_failed_hand_over_still_frees_the_slot(
    tenant: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def turn(*args: Any, **kwargs: Any) -> str:
        return "done"

    async def hand_over(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Redis went away mid-step")

    monkeypatch.setattr(jobs.tasks, "handle_message", turn)
    monkeypatch.setattr(jobs.tasks, "message_finished", hand_over)
    assert await _run(tenant) == "done"  # the turn's outcome stands
    assert await _slots(tenant) == 0
