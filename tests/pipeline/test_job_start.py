"""The worker's own job start (jobs/waking_worker.py `start_jobs`): one script
checks and locks a poll's jobs; it must keep arq's rule. A job runs once, only
when due, never while another worker holds it, and as many start as there are
free slots, whatever the running ones ahead of them in the queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.worker import func

from app.core.queue import (
    MESSAGE_JOB,
    _enqueue_now,
    dump_job,
    enqueue_message,
    get_pool,
    load_job,
    message_job_id,
    queue_name,
    wake_channel,
)
from app.core.settings import get_settings
from jobs.waking_worker import WakingWorker
from jobs.worker import worker_settings
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


async def test_a_message_job_the_fair_queue_writes_is_arqs_own(demo: Any) -> None:
    """The fair queue's script hands an admitted message to arq itself (one round
    trip): the job must read back as the one arq's enqueue would have written, as
    JSON (nothing from Redis is unpickled), once per id, with the workers woken."""
    tenant, message = uuid.uuid4(), uuid.uuid4()
    pool = await get_pool()
    job_id = message_job_id(message)
    async with pool.pubsub() as wakes:
        await wakes.subscribe(wake_channel())
        before = time.time() * 1000
        await enqueue_message(tenant, message)
        woken = None
        for _ in range(20):  # the subscribe confirmation reads as None first
            woken = await wakes.get_message(ignore_subscribe_messages=True, timeout=1)
            if woken is not None:
                break
    assert woken is not None and woken["type"] == "message"
    raw = await pool.get(job_key_prefix + job_id)
    assert json.loads(raw)["f"] == MESSAGE_JOB  # JSON, not a pickle
    [job] = [j for j in await pool.queued_jobs() if j.job_id == job_id]
    assert (job.function, job.args, job.kwargs) == (
        MESSAGE_JOB,
        (str(tenant), str(message)),
        {},
    )
    assert job.job_try is None
    assert before - 1 <= job.score <= time.time() * 1000
    ttl_ms = await pool.pttl(job_key_prefix + job_id)
    assert pool.expires_extra_ms - 60_000 < ttl_ms <= pool.expires_extra_ms
    # The same message again: the job is there, nothing more is queued.
    await enqueue_message(tenant, message)
    assert [j.job_id for j in await pool.queued_jobs()].count(job_id) == 1
    assert await pool.get(job_key_prefix + job_id) == raw
    # A kept result blocks the id, as arq's enqueue rule has it.
    other = uuid.uuid4()
    await pool.set(result_key_prefix + message_job_id(other), b"{}", px=60_000)
    await enqueue_message(uuid.uuid4(), other)
    assert await pool.get(job_key_prefix + message_job_id(other)) is None


async def test_the_worker_runs_a_message_job_the_fair_queue_wrote(demo: Any) -> None:
    """process_message is registered under the name the script writes, and reads
    the script's JSON."""
    ran: list[tuple[str, str]] = []

    async def process(ctx: dict[str, Any], tenant_id: str, message_id: str) -> None:
        ran.append((tenant_id, message_id))

    tenant, message = uuid.uuid4(), uuid.uuid4()
    await enqueue_message(tenant, message)
    settings = worker_settings()
    names = {f.name for f in settings["functions"]}
    assert MESSAGE_JOB in names  # the real worker's name for the job
    settings["functions"] = [func(process, name=MESSAGE_JOB, keep_result=0)]
    settings.update(cron_jobs=[], on_startup=None, on_shutdown=None)
    worker = WakingWorker(**settings, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert ran == [(str(tenant), str(message))]


async def test_a_job_in_an_older_format_fails_and_can_be_queued_again(
    demo: Any,
) -> None:
    """A job queued by a release that pickled jobs is not unpickled: it fails,
    keeps no result, and the message's job id is free for the sweeper."""
    tenant, message = uuid.uuid4(), uuid.uuid4()
    pool = await get_pool()
    job_id = message_job_id(message)
    pickled = serialize_job(
        MESSAGE_JOB, (str(tenant), str(message)), {}, None, int(time.time() * 1000)
    )
    await pool.psetex(job_key_prefix + job_id, 60_000, pickled)
    await pool.zadd(queue_name(), {job_id: time.time() * 1000})
    settings = {**worker_settings(), "cron_jobs": [], "burst": True}
    settings.update(on_startup=None, on_shutdown=None)
    worker = WakingWorker(**settings)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_failed == 1
    assert not await pool.exists(job_key_prefix + job_id, result_key_prefix + job_id)
    await enqueue_message(tenant, message)
    assert json.loads(await pool.get(job_key_prefix + job_id))["a"] == [
        str(tenant),
        str(message),
    ]


def test_jobs_are_json_and_a_failed_jobs_result_is_its_repr() -> None:
    job: dict[str, Any] = {"t": None, "f": "send_push", "a": ("t1", ["n1"]), "k": {}}
    assert load_job(dump_job(job)) == {**job, "a": ("t1", ["n1"])}
    with pytest.raises(TypeError):  # a job's arguments must be JSON
        dump_job({**job, "a": (uuid.uuid4(),)})
    failed = {**job, "s": False, "r": ValueError("no such schedule")}
    assert load_job(dump_job(failed))["r"] == "ValueError('no such schedule')"
