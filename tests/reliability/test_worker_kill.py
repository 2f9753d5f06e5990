"""kill -9 the worker at random points of assistant turns: nothing is lost, nothing
happens twice.

Each trial queues a few messages (several tenants, actions of every kind that writes
rows: tasks, service logs, schedules, notifications pushed by Web Push), lets a real
worker process run for a random time, SIGKILLs it and starts another. Every few
trials the test lets the survivors finish, then counts from PostgreSQL and from the
loopback push service. `make soak` runs the long version (SOAK_TRIALS).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from app.core.db import tenant_session
from app.domain.models import PushSubscription
from app.services.messages import submit_message
from tests.pipeline.conftest import actor_of
from tests.reliability.conftest import WorkerLauncher, trials
from tests.reliability.ledger import Subscribers, tally
from tests.ui.test_push_sender import Browser, PushService, b64u, push_service

__all__ = ["push_service"]  # the fixture, imported for this module
pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures("clean_db")]

# (tenant, sender, text): each one makes the offline model act.
REQUESTS = [
    ("maple-court", "ben", "My kitchen sink is leaking under the cabinet."),
    ("maple-court", "grace", "Finished cleaning the hallways at Maple Court."),
    ("maple-court", "alice", "There is water pouring through my ceiling!"),
    (
        "harbor-bistro",
        "maya",
        "Remind the kitchen team to deep clean the walk-in fridge on Friday at 10pm.",
    ),
    ("harbor-bistro", "luis", "Tell Sam that the fryer is making a strange noise."),
    ("riverside-lofts", "rita", "Let Ben know his parcel arrived at the desk."),
]
PER_TRIAL = 2
MAX_KILL_DELAY_S = 1.5
# Far below arq's own lock on a dead worker's job (job_timeout + 10 s = 70 s): the
# restarted worker must take the jobs back itself (jobs/recovery.py).
RECOVERY_S = 30.0


async def _subscribe_everyone(demo: Any, base: str) -> Subscribers:
    subscribers = Subscribers()
    for user in demo.users.values():
        if user.push_hours:
            continue  # outside them a push waits on purpose: not counted here
        browser = Browser.new()
        path = subscribers.path_for(user.id)
        subscribers.browsers[path] = browser
        async with tenant_session(user.tenant_id) as s:
            s.add(
                PushSubscription(
                    tenant_id=user.tenant_id,
                    user_id=user.id,
                    endpoint=base + path,
                    p256dh=browser.p256dh,
                    auth=b64u(browser.auth_secret),
                )
            )
    return subscribers


async def _wait_for(
    owner_engine: Any, sql: str, timeout_s: float, **params: Any
) -> None:
    """Poll until `sql` counts nothing (a loss shows in the final count, not as a
    hang here)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with owner_engine.connect() as conn:
            if not conn.execute(text(sql), params).scalar():
                return
        await asyncio.sleep(0.1)


UNFINISHED = (
    "SELECT count(*) FROM messages WHERE id = ANY(CAST(:ids AS uuid[]))"
    " AND status NOT IN ('done', 'failed')"
)
UNPUSHED = (
    "SELECT count(*) FROM notifications n JOIN push_subscriptions p"
    " ON p.user_id = n.user_id WHERE n.pushed_at IS NULL"
)
# A push lost between a turn's commit and its job is found by the sweeper (every
# 15 s, for notifications older than SWEEPER_STUCK_AFTER_S = 30 s).
PUSH_RECOVERY_S = 75.0


async def test_kill_9_the_worker_mid_turn(
    demo: Any,
    owner_engine: Any,
    push_service: PushService,
    workers: WorkerLauncher,
) -> None:
    n_trials = trials(20)
    seed = int(os.environ.get("SOAK_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    subscribers = await _subscribe_everyone(demo, push_service.base)
    sent: list[uuid.UUID] = []
    started = time.monotonic()
    recoveries: list[float] = []  # from a kill to the trial's messages done
    pid = workers.start()
    for _ in range(n_trials):
        batch = []
        for tenant, handle, body in rng.sample(REQUESTS, PER_TRIAL):
            user = demo.user(tenant, handle)
            result = await submit_message(actor_of(user), body, uuid.uuid4().hex)
            batch.append(result.message_id)
        await asyncio.sleep(rng.uniform(0, MAX_KILL_DELAY_S))
        workers.kill(pid)
        pid = workers.start()
        killed_at = time.monotonic()
        await _wait_for(
            owner_engine, UNFINISHED, RECOVERY_S, ids=[str(i) for i in batch]
        )
        recoveries.append(time.monotonic() - killed_at)
        sent += batch
    all_ids = [str(i) for i in sent]
    await _wait_for(owner_engine, UNFINISHED, PUSH_RECOVERY_S, ids=all_ids)
    await _wait_for(owner_engine, UNPUSHED, PUSH_RECOVERY_S)
    await asyncio.sleep(1.0)  # a duplicate push or reply would arrive now
    result_tally = tally(owner_engine, sent, subscribers, push_service)
    print(
        f"\nreliability kill-9: seed={seed} trials={n_trials} kills={n_trials} "
        f"pushes received={len(push_service.received)} "
        f"in {time.monotonic() - started:.0f} s, recovery median "
        f"{statistics.median(recoveries):.1f} s, max {max(recoveries):.1f} s: "
        f"{result_tally.line()}"
    )
    assert result_tally.lost == 0, result_tally.line()
    assert result_tally.duplicated == 0, result_tally.line()
    # arq alone would hold a dead worker's jobs for job_timeout + 10 s = 70 s; the
    # margin is for a machine shared with other test runs (turns take seconds).
    assert statistics.median(recoveries) < 45
