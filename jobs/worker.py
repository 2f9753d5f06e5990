"""The arq worker: `python -m jobs.worker`.

Jobs are thin wrappers over domain code (jobs/tasks.py). A heartbeat in Redis tells
/api/health the worker is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

from arq import cron
from arq.worker import func

from agents.intents import classifier as intent_classifier
from agents.local_embedding import encode_local
from agents.model import complete
from agents.provider import OFFLINE_MODEL
from app.core import health, metrics
from app.core.db import dispose_engines
from app.core.logs import configure_logging
from app.core.queue import (
    MESSAGE_JOB,
    close_pools,
    dump_job,
    load_job,
    queue_name,
    redis_settings,
    wake_channel,
)
from app.core.settings import get_settings
from app.services import memory_vectors
from jobs import recovery
from jobs.tasks import process_message, send_push, send_reminder, sweep
from jobs.waking_worker import WakingWorker

HEARTBEAT_S = 5.0
DRAIN_VECTORS_S = 10.0


async def _heartbeat(worker_id: str) -> None:
    while True:
        with contextlib.suppress(Exception):  # Redis down: beat again later
            await health.beat(worker_id)
        await asyncio.sleep(HEARTBEAT_S)


async def on_startup(ctx: dict[str, Any]) -> None:
    ctx["worker_id"] = recovery.worker_id()
    ctx["heartbeat"] = asyncio.create_task(_heartbeat(ctx["worker_id"]))
    ctx["warm_up"] = asyncio.create_task(_warm_up())
    # A worker restarted after a crash takes its predecessor's jobs back now.
    with contextlib.suppress(Exception):
        await recovery.release_dead_workers(ctx["worker_id"])


async def on_job_start(ctx: dict[str, Any]) -> None:
    # Redis down: the job still runs; only a crash in it would wait for arq's lock.
    with contextlib.suppress(Exception):
        await recovery.job_started(ctx["worker_id"], ctx["job_id"])


async def after_job_end(ctx: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):
        await recovery.job_ended(ctx["worker_id"], ctx["job_id"])


async def _warm_up() -> None:
    """Load the local models and litellm's lazy parts now, not during the first
    user's turn (it takes seconds). Jobs are served meanwhile; a failure only
    costs the warm-up."""
    settings = get_settings()
    try:
        if settings.embedding_model.startswith("switchboard/"):
            await asyncio.to_thread(encode_local, ["warm up"])
        if settings.llm_model.startswith("switchboard/"):
            # The built-in model's intent classifier trains (or loads) once.
            await asyncio.to_thread(intent_classifier)
            # litellm imports parts of itself at its first chat completion (0.5 s
            # to 4 s on a 2-core host): one built-in completion pays that now.
            await complete(
                [{"role": "user", "content": "warm up"}],
                model=OFFLINE_MODEL,
                max_retries=0,
            )
    except Exception:
        logging.getLogger(__name__).warning("model warm-up failed", exc_info=True)


async def on_shutdown(ctx: dict[str, Any]) -> None:
    # Vectors of the last turns' memories; what does not make it, the sweeper does.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(memory_vectors.drain(), DRAIN_VECTORS_S)
    for name in ("heartbeat", "warm_up"):
        task = ctx.get(name)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    with contextlib.suppress(Exception):
        await health.forget(ctx["worker_id"])
    await metrics.flush()
    await dispose_engines()
    await close_pools()


async def ping(ctx: dict[str, Any]) -> str:
    """A no-op job: lets tests and benchmarks measure pickup latency."""
    return "pong"


def worker_settings() -> dict[str, Any]:
    s = get_settings()
    return {
        "functions": [
            # No kept result: the database says whether a message is done, and a
            # kept result would block the sweeper from re-queueing the same id.
            # Many tries: most are fairness deferrals, not failures (the message
            # counts its own attempts).
            func(process_message, name=MESSAGE_JOB, keep_result=0, max_tries=1000),
            func(send_reminder, keep_result=3600, max_tries=5),
            func(send_push, keep_result=0, max_tries=3),
            func(ping, keep_result=60),
        ],
        # A job that cannot be read (one queued by an older release in another
        # format) fails without a kept result, so the sweeper can queue its message
        # again under the same id.
        "keep_result": 0,
        "job_serializer": dump_job,
        "job_deserializer": load_job,
        "cron_jobs": [
            cron(sweep, second={0, 15, 30, 45}, run_at_startup=True, unique=True)
        ],
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "on_job_start": on_job_start,
        "after_job_end": after_job_end,
        # Jobs queued by app/core/queue.py wake the worker at once; the timed poll
        # is the fallback (a lost wake-up, deferred jobs coming due).
        "wake_channel": wake_channel(),
        "poll_delay": s.worker_poll_delay_s,
        "max_jobs": s.max_jobs,
        # Tight: a killed worker's job is blocked for job_timeout + 10 s.
        "job_timeout": s.job_timeout_s,
        "queue_name": queue_name(),
        "redis_settings": redis_settings(),
        "health_check_interval": 30,
        "health_check_key": f"{queue_name()}:health-check",
    }


@contextlib.asynccontextmanager
async def running_worker() -> AsyncIterator[WakingWorker]:
    """A real arq worker on the real queue inside this event loop (scenario runs
    and integration tests); `python -m jobs.worker` is the production form."""
    worker = WakingWorker(**worker_settings())
    task = asyncio.create_task(worker.async_run())
    try:
        await _warmed_up(worker, task)
        yield worker
    finally:
        # Stop polling first, then let running jobs finish and close the pool.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await worker.close()


async def _warmed_up(worker: WakingWorker, task: asyncio.Task[None]) -> None:
    """Until the worker has started and its warm-up has ended: a test's or a
    scenario's first message neither waits behind the warm-up nor meets its model
    call (the warm-up logs its own failure and never raises)."""
    while "warm_up" not in worker.ctx and not task.done():
        await asyncio.sleep(0.01)
    warm_up = worker.ctx.get("warm_up")
    if warm_up is not None:
        await warm_up


# How long a thread may hold the GIL while another waits for it (Python's default
# is 5 ms). The event loop thread is busy under load, and the embedding model and
# the built-in model run on pool threads that need the GIL for a moment before
# and after their native code: at the default each such moment waited up to 5 ms,
# and a turn's embedding wait was 21 ms p50 at 50 msg/s (4.5 ms at 0.5 ms).
GIL_SWITCH_INTERVAL_S = 0.0005


def main() -> None:
    configure_logging(get_settings().log_level)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    WakingWorker(**worker_settings()).run()


if __name__ == "__main__":
    main()
