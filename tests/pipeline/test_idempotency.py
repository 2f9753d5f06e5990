"""At-least-once delivery: resends, duplicate jobs and lost jobs change nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.core.queue import get_pool, message_job_id, queue_name
from app.core.redis_client import get_redis
from app.domain.models import (
    AssistantRun,
    LlmUsage,
    Message,
    Notification,
    ProposedAction,
    Schedule,
    utcnow,
)
from app.services.messages import submit_message
from app.services.turns import handle_message
from tests.pipeline.conftest import ScriptedModel, actor_of, wait_done
from tests.pipeline.test_message_flow import rows

pytestmark = pytest.mark.usefixtures("clean_db")

NOTIFY_SAM = {
    "reply": "ok",
    "actions": [{"type": "notify", "recipients": ["user:sam"], "message": "hi"}],
}


async def _forget_job(message_id: uuid.UUID) -> None:
    """What a Redis restart does to a queued job."""
    redis = get_redis()
    job_id = message_job_id(message_id)
    await redis.zrem(queue_name(), job_id)
    await redis.delete(f"arq:job:{job_id}")


async def test_same_message_submitted_twice_is_one_message(
    demo: Any, worker: Any, scripted_model: ScriptedModel
) -> None:
    maya = demo.user("harbor-bistro", "maya")
    scripted_model.say(NOTIFY_SAM)
    first = await submit_message(actor_of(maya), "Tell Sam hi", "client-1")
    second = await submit_message(actor_of(maya), "Tell Sam hi", "client-1")
    assert first.message_id == second.message_id
    assert (first.created, second.created) == (True, False)
    await wait_done(maya.tenant_id, first.message_id)
    await asyncio.sleep(0.3)  # a second job, had there been one, would run now
    assert len(await rows(maya.tenant_id, Message, author="user")) == 1
    assert len(await rows(maya.tenant_id, Notification)) == 1
    assert len(scripted_model.calls) == 1


async def test_same_job_run_twice_concurrently_writes_one_set(
    demo: Any, scripted_model: ScriptedModel
) -> None:
    # No worker running: the two deliveries are these two direct calls.
    maya = demo.user("harbor-bistro", "maya")
    scripted_model.say(NOTIFY_SAM, NOTIFY_SAM)
    sent = await submit_message(actor_of(maya), "Tell Sam hi", "client-2")
    await _forget_job(sent.message_id)
    outcomes = await asyncio.gather(
        handle_message(maya.tenant_id, sent.message_id),
        handle_message(maya.tenant_id, sent.message_id),
    )
    assert sorted(outcomes) == ["done", "skipped"]
    assert len(await rows(maya.tenant_id, ProposedAction)) == 1
    assert len(await rows(maya.tenant_id, Notification)) == 1
    assert len(await rows(maya.tenant_id, Message, author="assistant")) == 1
    # The run record and its model call: written with the message's "done", once.
    (run,) = await rows(maya.tenant_id, AssistantRun)
    (call,) = await rows(maya.tenant_id, LlmUsage)
    assert run.message_id == call.message_id == sent.message_id
    assert run.status == "ok" and run.reply and run.prompt
    assert (run.model, run.prompt_tokens) == (call.model, call.prompt_tokens) != ("", 0)
    # A late third delivery after completion does nothing at all.
    assert await handle_message(maya.tenant_id, sent.message_id) == "skipped"


async def test_sweeper_requeues_a_message_whose_job_was_lost(
    demo: Any, scripted_model: ScriptedModel, owner_engine: Any
) -> None:
    from jobs.tasks import sweep
    from jobs.worker import running_worker

    luis = demo.user("harbor-bistro", "luis")
    scripted_model.say(NOTIFY_SAM)
    sent = await submit_message(actor_of(luis), "Tell Sam hi", "client-3")
    await _forget_job(sent.message_id)
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE messages SET updated_at = :t WHERE id = :m"),
            {"t": utcnow() - timedelta(minutes=5), "m": sent.message_id},
        )
    counts = await sweep({})
    assert counts["requeued"] == 1
    async with running_worker():
        msg = await wait_done(luis.tenant_id, sent.message_id)
    assert msg.status == "done"
    assert len(await rows(luis.tenant_id, Notification)) == 1


async def test_reminder_is_a_deferred_job_backed_by_the_schedule(
    demo: Any, worker: Any
) -> None:
    from app.core.db import tenant_session
    from app.core.queue import enqueue_reminder

    kitchen = demo.team("harbor-bistro", "kitchen")
    tid = kitchen.tenant_id
    at = (utcnow() + timedelta(seconds=1)).replace(microsecond=0)
    async with tenant_session(tid) as s:
        schedule = Schedule(
            tenant_id=tid, title="Fridge check", starts_at=at, audience=["team:kitchen"]
        )
        s.add(schedule)
    await enqueue_reminder(tid, schedule.id, at)
    await enqueue_reminder(tid, schedule.id, at)  # same job id: queued once
    for _ in range(100):
        notes = await rows(tid, Notification, kind="reminder")
        if len(notes) == 2:
            break
        await asyncio.sleep(0.05)
    assert {n.user_id for n in notes} == {
        demo.user("harbor-bistro", "luis").id,
        demo.user("harbor-bistro", "sam").id,
    }
    # The sweeper re-creating the job after a Redis loss sends nothing twice.
    pool = await get_pool()
    await pool.enqueue_job(
        "send_reminder", str(tid), str(schedule.id), at.isoformat(), _job_id="again"
    )
    await asyncio.sleep(0.5)
    assert len(await rows(tid, Notification, kind="reminder")) == 2
