"""Per-tenant concurrency cap: one tenant's flood leaves room for the others."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from app.core.db import tenant_session
from app.core.redis_client import get_redis
from app.domain.models import Message
from jobs.fairness import acquire_slot, inflight_key, release_slot
from tests.pipeline.conftest import actor_of, wait_done

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_cap_holds_per_tenant_and_slots_expire(stack: None) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert await acquire_slot(a, "j1", 2, 60)
    assert await acquire_slot(a, "j2", 2, 60)
    assert not await acquire_slot(a, "j3", 2, 60)  # tenant a is at its cap
    assert await acquire_slot(b, "j3", 2, 60)  # tenant b is not affected
    assert await acquire_slot(a, "j1", 2, 60)  # a re-delivered job keeps its slot
    await release_slot(a, "j1")
    assert await acquire_slot(a, "j3", 2, 60)
    # A crashed worker's slot frees itself once its hold time has passed.
    assert await acquire_slot(b, "dead", 2, 0.2)
    assert not await acquire_slot(b, "j4", 2, 60)
    await asyncio.sleep(0.3)
    assert await acquire_slot(b, "j4", 2, 60)
    key = inflight_key(a)
    assert key.startswith("sb:t:") and a in key  # namespaced per tenant
    await get_redis().delete(inflight_key(a), inflight_key(b))


async def test_flooding_tenant_does_not_starve_another(demo: Any, worker: Any) -> None:
    from app.services.messages import submit_message

    luis = demo.user("harbor-bistro", "luis")
    ben = demo.user("maple-court", "ben")
    flood = [
        await submit_message(
            actor_of(luis), f"We are out of item {i}.", uuid.uuid4().hex
        )
        for i in range(30)
    ]
    started = time.monotonic()
    probe = await submit_message(
        actor_of(ben), "The hallway light is broken.", uuid.uuid4().hex
    )
    await wait_done(ben.tenant_id, probe.message_id)
    probe_s = time.monotonic() - started
    pending = 0
    for sent in flood:
        async with tenant_session(luis.tenant_id) as s:
            msg = await s.get(Message, (luis.tenant_id, sent.message_id))
        pending += msg is not None and msg.status != "done"
    # Ben's message finished while most of the flood was still waiting.
    assert pending >= 10, (pending, probe_s)
    for sent in flood:
        await wait_done(luis.tenant_id, sent.message_id)
