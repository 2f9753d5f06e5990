"""Fixtures for the message → queue → worker → model → actions flow."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
import pytest
import redis
from arq.connections import ArqRedis
from arq.worker import Worker

from app.core.db import tenant_session
from app.core.queue import wake_channel
from app.core.redis_client import redis_url
from app.core.settings import get_settings
from app.domain.actor import Actor
from app.domain.models import Message, MessageStatus


class ScriptedModel:
    """The model's answers, in order, served by litellm's own mock_response (the
    request still goes through litellm: params, usage, the cost map)."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.calls: list[dict[str, Any]] = []

    def say(self, *answers: str | dict[str, Any]) -> None:
        for a in answers:
            self.answers.append(a if isinstance(a, str) else json.dumps(a))


@pytest.fixture(autouse=True)
def empty_redis() -> None:
    """Each flow test starts with Redis as a new deployment has it (the test server
    holds nothing else): no job, admission or deferred retry of the test before,
    which would otherwise run in this test's worker and count in its queue depth."""
    client = redis.Redis.from_url(redis_url())
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def scripted_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedModel]:
    script = ScriptedModel()
    real = litellm.acompletion

    async def acompletion(**kwargs: Any) -> Any:
        script.calls.append(kwargs)
        if not script.answers:
            raise AssertionError("the model was called more often than scripted")
        return await real(**kwargs, mock_response=script.answers.pop(0))

    monkeypatch.setattr(litellm, "acompletion", acompletion)
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o-mini")
    get_settings.cache_clear()
    yield script
    get_settings.cache_clear()


@pytest.fixture
async def worker(demo: Any) -> AsyncIterator[Worker]:
    from jobs.worker import running_worker

    async with running_worker() as w:
        yield w


async def wait_done(tenant_id: uuid.UUID, message_id: uuid.UUID) -> Message:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with tenant_session(tenant_id) as s:
            msg = await s.get(Message, (tenant_id, message_id))
        if msg is not None and msg.status in (
            MessageStatus.done.value,
            MessageStatus.failed.value,
        ):
            return msg
        await asyncio.sleep(0.05)
    raise AssertionError("message not processed in 30 s")


async def wake(pool: ArqRedis) -> None:
    """What queueing a job publishes (app/core/queue.py `_enqueue_now`): workers
    poll now."""
    await pool.publish(wake_channel(), "")


def actor_of(user: Any) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)
