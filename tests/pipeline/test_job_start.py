"""The worker's own job start (jobs/waking_worker.py `start_jobs`): one script
checks and locks a poll's jobs; it must keep arq's rule. A job runs once, only
when due, never while another worker holds it, and as many start as there are
free slots, whatever the running ones ahead of them in the queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.worker import func

from app.core.queue import _enqueue_now, get_pool
from app.core.settings import get_settings
from jobs.waking_worker import WakingWorker
from tests.pipeline.conftest import wake

SLOTS = 3


class Holds:
    """Jobs that run until released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()  # all
        self.one: dict[str, asyncio.Event] = {}
        self.running = 0
        self.most = 0
        self.ran: list[str] = []

    async def hold(self, ctx: dict[str, Any], name: str) -> str:
        self.running += 1
        self.most = max(self.most, self.running)
        self.ran.append(name)
        mine = self.one.setdefault(name, asyncio.Event())
        try:
            await asyncio.wait(
                [
                    asyncio.ensure_future(self.release.wait()),
                    asyncio.ensure_future(mine.wait()),
                ],
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            self.running -= 1
        return name


@contextlib.asynccontextmanager
async def worker_with(holds: Holds) -> AsyncIterator[WakingWorker]:
    from jobs.worker import worker_settings

    settings = {
        **worker_settings(),
        "functions": [func(holds.hold, name="hold", keep_result=60)],
        "cron_jobs": [],
        "max_jobs": SLOTS,
        "poll_delay": 60,  # only wake-ups start jobs here
    }
    worker = WakingWorker(**settings)
    task = asyncio.create_task(worker.async_run())
    try:
        await asyncio.sleep(0.3)  # past its first poll
        yield worker
    finally:
        holds.release.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await worker.close()


async def until(check: Any, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Any:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_free_slots_fill_past_the_running_jobs_and_each_job_runs_once(
    demo: Any,
) -> None:
    holds = Holds()
    async with worker_with(holds) as worker:
        pool = await get_pool()
        jobs = [
            await pool.enqueue_job("hold", f"j{i}", _job_id=f"hold:{i}")
            for i in range(SLOTS + 2)
        ]
        await wake(pool)
        await until(lambda: holds.running == SLOTS)
        await wake(pool)  # a poll with every slot taken starts nothing more
        await asyncio.sleep(0.3)
        assert holds.running == SLOTS and worker.job_counter == SLOTS
        # One ends: the next starts in its slot, although the two still running
        # are ahead of it in the queue.
        holds.one["j0"].set()
        await until(lambda: len(holds.ran) == SLOTS + 1)
        assert holds.running == SLOTS
        holds.release.set()
        results = [await job.result(timeout=10) for job in jobs if job is not None]
    assert sorted(results) == [f"j{i}" for i in range(SLOTS + 2)]
    assert sorted(holds.ran) == sorted(results)  # none twice
    assert holds.most == SLOTS


async def test_a_job_held_elsewhere_or_not_due_is_left_queued(demo: Any) -> None:
    holds = Holds()
    async with worker_with(holds) as worker:
        pool = await get_pool()
        # Another worker's lock, as arq sets it when it starts a job.
        await pool.set(in_progress_key_prefix + "hold:elsewhere", b"1", px=60_000)
        await pool.enqueue_job("hold", "elsewhere", _job_id="hold:elsewhere")
        await pool.enqueue_job("hold", "later", _job_id="hold:later", _defer_by=60)
        await pool.enqueue_job("hold", "now", _job_id="hold:now")
        await wake(pool)
        await until(lambda: holds.ran == ["now"])
        await wake(pool)
        await asyncio.sleep(0.3)
        assert holds.ran == ["now"] and worker.job_counter == 1
        queued = {j.job_id for j in await pool.queued_jobs()}
        assert {"hold:elsewhere", "hold:later"} <= queued


async def test_jobs_queued_in_one_script_are_arqs_own(demo: Any) -> None:
    """`_enqueue_now` (app/core/queue.py) keeps arq's enqueue rule: a job once per
    id while it is queued, running or its result kept, stored as arq stores it."""
    pool = await get_pool()
    jobs = [("hold", ("a",), "hold:a"), ("hold", ("b",), "hold:b")]
    assert await _enqueue_now(pool, jobs) == 2
    assert await _enqueue_now(pool, jobs) == 0  # same ids: nothing more
    queued = {j.job_id: j for j in await pool.queued_jobs()}
    assert queued["hold:a"].function == "hold" and queued["hold:a"].args == ("a",)
    assert queued["hold:b"].args == ("b",) and queued["hold:b"].job_try is None
    ttl_ms = await pool.pttl(job_key_prefix + "hold:a")
    assert pool.expires_extra_ms - 60_000 < ttl_ms <= pool.expires_extra_ms
    # A kept result also blocks the id, as in arq.
    await pool.set(result_key_prefix + "hold:c", b"kept", px=60_000)
    assert await _enqueue_now(pool, [("hold", ("c",), "hold:c")]) == 0
    # And the worker runs what was queued this way.
    holds = Holds()
    holds.release.set()
    async with worker_with(holds):
        await wake(pool)
        await until(lambda: sorted(holds.ran) == ["a", "b"])
