"""Redis loses everything (FLUSHALL: a restart without persistence) while messages
are queued and reminders deferred: the sweeper of the next real worker finds every
one in PostgreSQL, and nothing is delivered twice, not even after a second loss."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.core.db import tenant_session
from app.core.queue import enqueue_reminder
from app.core.redis_client import get_redis
from app.domain.models import Schedule, utcnow
from app.services.messages import submit_message
from app.services.sweeper import sweep
from tests.pipeline.conftest import actor_of
from tests.reliability.conftest import WorkerLauncher, trials
from tests.reliability.ledger import tally

pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures("clean_db")]

REQUESTS = [
    ("maple-court", "ben", "My kitchen sink is leaking under the cabinet."),
    ("maple-court", "grace", "Finished cleaning the hallways at Maple Court."),
    ("harbor-bistro", "luis", "Tell Sam that the fryer is making a strange noise."),
    ("riverside-lofts", "rita", "Let Ben know his parcel arrived at the desk."),
]


async def _until(
    owner_engine: Any, sql: str, want: int, timeout_s: float, **p: Any
) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        with owner_engine.connect() as conn:
            got = int(conn.execute(text(sql), p).scalar() or 0)
        if got == want or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.2)


async def test_redis_flushed_with_messages_queued_and_reminders_deferred(
    demo: Any, owner_engine: Any, workers: WorkerLauncher
) -> None:
    n_messages = trials(12)
    kitchen = demo.team("harbor-bistro", "kitchen")
    tid = kitchen.tenant_id
    # Nobody is working: everything below waits in Redis only.
    sent = []
    for i in range(n_messages):
        tenant, handle, body = REQUESTS[i % len(REQUESTS)]
        result = await submit_message(
            actor_of(demo.user(tenant, handle)), body, uuid.uuid4().hex
        )
        sent.append(str(result.message_id))
    tag = uuid.uuid4().hex[:8]
    at = (utcnow() + timedelta(seconds=8)).replace(microsecond=0)
    schedule_ids = []
    for n in range(3):
        async with tenant_session(tid) as s:
            schedule = Schedule(
                tenant_id=tid,
                title=f"Fridge check {tag} {n}",
                starts_at=at,
                audience=["team:kitchen"],
            )
            s.add(schedule)
        await enqueue_reminder(tid, schedule.id, at)
        schedule_ids.append(str(schedule.id))

    await get_redis().flushall()
    # The sweeper re-queues messages left unfinished for SWEEPER_STUCK_AFTER_S
    # (30 s); these were queued "a while ago".
    with owner_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE messages SET updated_at = now() - interval '5 minutes'"
                " WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": sent},
        )
    started = time.monotonic()
    workers.start()  # its first sweep runs at startup

    unfinished = await _until(
        owner_engine,
        "SELECT count(*) FROM messages WHERE id = ANY(CAST(:ids AS uuid[]))"
        " AND status <> 'done'",
        0,
        60,
        ids=sent,
    )
    reminders_sql = (
        "SELECT count(*) FROM notifications WHERE kind = 'reminder'"
        " AND data->>'schedule_id' = ANY(:ids)"
    )
    audience = 2 * len(schedule_ids)  # the kitchen team: Luis and Sam
    reminded = await _until(owner_engine, reminders_sql, audience, 30, ids=schedule_ids)
    recovered_in = time.monotonic() - started

    # A second loss after delivery, and a sweep: nothing is sent again.
    await get_redis().flushall()
    await sweep()
    await asyncio.sleep(3)
    with owner_engine.connect() as conn:
        reminded_after = int(
            conn.execute(text(reminders_sql), {"ids": schedule_ids}).scalar() or 0
        )
    counted = tally(owner_engine, [uuid.UUID(m) for m in sent])
    print(
        f"\nreliability redis-flush: messages={n_messages} unfinished={unfinished} "
        f"reminders={reminded}/{audience} after second flush={reminded_after} "
        f"recovered in {recovered_in:.1f} s: {counted.line()}"
    )
    assert unfinished == 0
    assert reminded == reminded_after == audience
    assert counted.lost == 0, counted.line()
    assert counted.duplicated == 0, counted.line()
