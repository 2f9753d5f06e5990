"""GET /api/health: database, Redis and worker liveness; 503 when one is down."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.db import platform_session
from app.redis_client import get_redis, key

router = APIRouter()
WORKER_FRESH_S = 15.0


class CheckOut(BaseModel):
    ok: bool
    error: str | None = None
    alive: int | None = None


class HealthOut(BaseModel):
    status: str  # ok | degraded
    checks: dict[str, CheckOut]


def workers_key() -> str:
    """Sorted set: worker id → time of its last heartbeat (jobs/worker.py)."""
    return key("workers")


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


async def _check(name: str, probe: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await asyncio.wait_for(probe(), timeout=3.0)
        return result
    except Exception as exc:  # any failure means "down"; the type is enough to say
        return {"ok": False, "error": type(exc).__name__}


@router.get(
    "/api/health",
    tags=["health"],
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A dependency is down"}},
)
async def health() -> JSONResponse:
    names = ("database", "redis", "worker")
    results = await asyncio.gather(
        *(
            _check(n, p)
            for n, p in zip(names, (_database, _redis, _worker), strict=True)
        )
    )
    checks = dict(zip(names, results, strict=True))
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "checks": checks},
        status_code=200 if ok else 503,
    )
