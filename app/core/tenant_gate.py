"""At most a few of one tenant's submits at once in this process.

The fair queue (app/core/fair_queue.py) orders the turns once messages are in; in
front of it, the process that takes them in (the app's backend, the API) serves
every tenant from one connection pool and one event loop. Without a bound, a tenant
that sends 40 messages at once takes every pooled connection, and another tenant's
one message waits behind all 40 inserts before it even exists. So each tenant gets
at most TENANT_SUBMIT_CONCURRENCY submits in flight per process (below the pool's
size); its others wait here, in order, while other tenants' go through.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from app.core.loop_local import LoopLocal
from app.core.settings import get_settings


class TenantGate:
    """Per-tenant semaphores, made on a tenant's first submit and dropped when its
    last one leaves (no entry per tenant ever seen)."""

    def __init__(self) -> None:
        self._gates: dict[uuid.UUID, asyncio.Semaphore] = {}
        self._inside: dict[uuid.UUID, int] = {}  # holding or waiting

    @asynccontextmanager
    async def enter(self, tenant_id: uuid.UUID) -> AsyncIterator[None]:
        gate = self._gates.get(tenant_id)
        if gate is None:
            limit = max(1, get_settings().tenant_submit_concurrency)
            gate = self._gates[tenant_id] = asyncio.Semaphore(limit)
        self._inside[tenant_id] = self._inside.get(tenant_id, 0) + 1
        try:
            async with gate:
                yield
        finally:
            self._inside[tenant_id] -= 1
            if not self._inside[tenant_id]:
                del self._inside[tenant_id], self._gates[tenant_id]

    def tenants(self) -> int:
        """Tenants with a submit in flight or waiting (tests: nothing is kept)."""
        return len(self._gates)


_gate: LoopLocal[TenantGate] = LoopLocal(TenantGate)


def submits(tenant_id: uuid.UUID) -> AbstractAsyncContextManager[None]:
    """`async with submits(tenant_id):` around one submit."""
    return _gate.get().enter(tenant_id)


def gate() -> TenantGate:
    return _gate.get()
