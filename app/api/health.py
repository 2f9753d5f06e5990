"""GET /api/health: database, Redis and worker liveness; 503 when one is down."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.core.health import check_all

router = APIRouter()


class CheckOut(BaseModel):
    ok: bool
    error: str | None = None
    alive: int | None = None


class HealthOut(BaseModel):
    status: str  # ok | degraded
    checks: dict[str, CheckOut]


@router.get(
    "/api/health",
    tags=["health"],
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A dependency is down"}},
)
async def health() -> JSONResponse:
    checks = await check_all()
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "checks": checks},
        status_code=200 if ok else 503,
    )
