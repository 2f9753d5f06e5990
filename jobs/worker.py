"""The arq worker: `python -m jobs.worker`.

Jobs are thin wrappers over domain code (jobs/tasks.py); shared clients are created
in on_startup and passed in ctx. A heartbeat in Redis tells /api/health the worker
is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from typing import Any

from arq.connections import RedisSettings
from arq.worker import run_worker

from app.api.health import workers_key
from app.logs import configure_logging
from app.redis_client import get_redis, key
from app.settings import get_settings

HEARTBEAT_S = 5.0


def queue_name() -> str:
    return key("queue")


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set (start through `make run`)")
    return RedisSettings.from_dsn(url)


async def _heartbeat(worker_id: str) -> None:
    redis = get_redis()
    while True:
        now = time.time()
        await redis.zadd(workers_key(), {worker_id: now})
        await redis.zremrangebyscore(workers_key(), "-inf", now - 3600)
        await asyncio.sleep(HEARTBEAT_S)


async def on_startup(ctx: dict[str, Any]) -> None:
    ctx["worker_id"] = f"{socket.gethostname()}-{os.getpid()}"
    ctx["heartbeat"] = asyncio.create_task(_heartbeat(ctx["worker_id"]))


async def on_shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.get("heartbeat")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with contextlib.suppress(Exception):
        await get_redis().zrem(workers_key(), ctx["worker_id"])
    from app.db import dispose_engines

    await dispose_engines()


async def ping(ctx: dict[str, Any]) -> str:
    """A no-op job: lets tests and benchmarks measure pickup latency."""
    return "pong"


class WorkerSettings:
    functions = [ping]
    on_startup = on_startup
    on_shutdown = on_shutdown
    # Near-real-time pickup: arq's default 0.5 s poll would add up to half a second.
    poll_delay = get_settings().worker_poll_delay_s
    max_jobs = get_settings().worker_max_jobs
    job_timeout = get_settings().job_timeout_s
    queue_name = queue_name()
    redis_settings = redis_settings() if get_settings().redis_url else RedisSettings()
    health_check_interval = 30


def main() -> None:
    configure_logging(get_settings().log_level)
    run_worker(WorkerSettings)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
