"""Liveness of the platform's parts: the database, Redis and the workers.

Workers write a heartbeat into a sorted set (`beat`); `check_all` reads it together
with a database and a Redis round trip. GET /api/health (app/api/health.py) and the
metrics read these; the worker (jobs/worker.py) writes the heartbeat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from app.core.db import platform_session
from app.core.redis_client import get_redis, key

WORKER_FRESH_S = 15.0
PROBE_TIMEOUT_S = 3.0
# Heartbeats older than this are dropped from the set.
FORGET_AFTER_S = 3600.0


def workers_key() -> str:
    """Sorted set: worker id → time of its last heartbeat."""
    return key("workers")


async def beat(worker_id: str) -> None:
    now = time.time()
    redis = get_redis()
    await redis.zadd(workers_key(), {worker_id: now})
    await redis.zremrangebyscore(workers_key(), "-inf", now - FORGET_AFTER_S)


async def forget(worker_id: str) -> None:
    await get_redis().zrem(workers_key(), worker_id)


async def _database() -> dict[str, Any]:
    async with platform_session() as s:
        await s.execute(text("SELECT 1"))
    return {"ok": True}


async def _redis() -> dict[str, Any]:
    await get_redis().ping()  # type: ignore[misc]
    return {"ok": True}


async def _worker() -> dict[str, Any]:
    alive = await get_redis().zcount(
        workers_key(), time.time() - WORKER_FRESH_S, "+inf"
    )
    return {"ok": alive > 0, "alive": alive}


async def _check(probe: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_S)
    except Exception as exc:  # any failure means "down"; the type is enough to say
        return {"ok": False, "error": type(exc).__name__}


async def check_all() -> dict[str, dict[str, Any]]:
    """{"database": {...}, "redis": {...}, "worker": {...}}, each with `ok`."""
    probes = {"database": _database, "redis": _redis, "worker": _worker}
    results = await asyncio.gather(*(_check(p) for p in probes.values()))
    return dict(zip(probes, results, strict=True))
