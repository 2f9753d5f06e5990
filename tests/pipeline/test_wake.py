"""Workers start jobs when they are queued, not at their next timed poll.

The timed poll is set to a minute here, so every job below that finishes within
the test's few-second waits was started by a wake-up.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app.core.queue import get_pool
from app.core.settings import get_settings
from app.services.messages import submit_message
from tests.pipeline.conftest import ScriptedModel, actor_of, wait_done, wake

SLOW_POLL = "60"


@pytest.fixture
def slow_poll(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WORKER_POLL_DELAY_S", SLOW_POLL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_a_queued_message_wakes_the_worker(
    demo: Any, slow_poll: Any, scripted_model: ScriptedModel
) -> None:
    from jobs.worker import running_worker

    maya = demo.user("harbor-bistro", "maya")
    scripted_model.say({"reply": "noted"})
    async with running_worker() as worker:
        assert worker.poll_delay_s == float(SLOW_POLL)
        await asyncio.sleep(0.3)  # past the poll it makes on starting
        sent = await submit_message(actor_of(maya), "Anything new?", uuid.uuid4().hex)
        msg = await asyncio.wait_for(wait_done(maya.tenant_id, sent.message_id), 10)
    assert msg.status == "done"


async def test_a_finished_job_frees_its_slot_at_once(
    demo: Any, slow_poll: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs.worker import running_worker

    monkeypatch.setenv("WORKER_MAX_JOBS", "1")
    get_settings.cache_clear()
    async with running_worker() as worker:
        assert worker.max_jobs == 1
        await asyncio.sleep(0.3)
        pool = await get_pool()
        jobs = [await pool.enqueue_job("ping", _job_id=f"ping:{i}") for i in range(3)]
        await wake(pool)  # once: the second and third start as slots free up
        results = [await job.result(timeout=10) for job in jobs if job is not None]
    assert results == ["pong"] * 3
