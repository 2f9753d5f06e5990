"""Version 1 of the REST API: thin routes over the domain layer (app/services).

Each route parses the body (schemas.py), resolves the caller (deps.py), and calls
one domain function, which loads every client-supplied id inside the caller's
tenant (app/services/access.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.v1 import (
    admin,
    approvals,
    auth,
    events,
    messages,
    notifications,
    operator,
    push,
    tasks,
)

router = APIRouter(prefix="/api/v1")
for _module in (
    auth,
    messages,
    notifications,
    tasks,
    approvals,
    push,
    admin,
    operator,
    events,
):
    router.include_router(_module.router)
