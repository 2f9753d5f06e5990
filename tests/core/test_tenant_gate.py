"""The per-tenant submit gate: a tenant's burst waits its turn in the process that
takes messages in, and other tenants' submits go past it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.core import tenant_gate
from app.core.settings import get_settings


@pytest.fixture
def limit_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "tenant_submit_concurrency", 2)


async def test_a_tenant_has_at_most_its_limit_inside(limit_two: None) -> None:
    noisy, quiet = uuid.uuid4(), uuid.uuid4()
    release = asyncio.Event()
    inside: list[str] = []
    most = 0

    async def submit(tenant: uuid.UUID, name: str) -> None:
        nonlocal most
        async with tenant_gate.submits(tenant):
            inside.append(name)
            most = max(most, sum(1 for n in inside if n.startswith("noisy")))
            await release.wait()
            inside.remove(name)

    burst = [asyncio.create_task(submit(noisy, f"noisy{i}")) for i in range(6)]
    await asyncio.sleep(0.05)
    assert sorted(inside) == ["noisy0", "noisy1"]  # the first two, in order
    other = asyncio.create_task(submit(quiet, "quiet"))
    await asyncio.sleep(0.05)
    assert "quiet" in inside  # not behind the burst
    release.set()
    await asyncio.gather(*burst, other)
    assert most == 2 and inside == []
    assert tenant_gate.gate().tenants() == 0  # nothing kept per tenant


async def test_a_cancelled_submit_gives_its_place_back(limit_two: None) -> None:
    tenant = uuid.uuid4()
    hold = asyncio.Event()

    async def submit() -> None:
        async with tenant_gate.submits(tenant):
            await hold.wait()

    first = [asyncio.create_task(submit()) for _ in range(3)]
    await asyncio.sleep(0.05)
    for task in first:
        task.cancel()
    await asyncio.gather(*first, return_exceptions=True)
    assert tenant_gate.gate().tenants() == 0
    hold.set()
    await asyncio.wait_for(
        asyncio.gather(*(submit() for _ in range(2))), timeout=2
    )  # both places free again
