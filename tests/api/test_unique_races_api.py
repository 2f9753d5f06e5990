"""Unique keys under concurrency: when parallel requests race for one key, the
database's constraint decides; one wins and the others get a 409 (or, where the
operation is idempotent, the same row), never a 500."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
from sqlalchemy import func
from sqlmodel import select

from app.core.db import platform_session, tenant_session
from app.domain.models import Operator, PushSubscription
from app.services.operators import ensure_operator
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo

N = 10


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    for r in responses:
        if r.status_code == 409:
            body = r.json()
            assert body["error"] == "conflict" and body["message"], body
    return Counter(r.status_code for r in responses)


async def test_parallel_creation_of_one_user_is_one_201_and_409s(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    headers = auth(demo.user("harbor-bistro", "admin"))
    handle = f"twin{uuid.uuid4().hex[:6]}"
    body = {
        "email": f"{handle}@harbor-bistro.example",
        "name": "Twin",
        "role": "employee",
        "password": "a-long-password",
    }
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/admin/users", json=body, headers=headers)
            for _ in range(N)
        )
    )
    assert _statuses(list(responses)) == {201: 1, 409: N - 1}


async def test_parallel_creation_of_one_tenant_is_one_201_and_409s(
    client: httpx.AsyncClient, operator: tuple[uuid.UUID, str, str]
) -> None:
    slug = f"race-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "name": "Race Cafe",
        "admin_email": f"boss@{slug}.example",
        "admin_password": "a-long-password",
    }
    headers = objects.operator_auth(operator[0])
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/operator/tenants", json=body, headers=headers)
            for _ in range(N)
        )
    )
    assert _statuses(list(responses)) == {201: 1, 409: N - 1}


async def test_parallel_subscriptions_of_one_browser_leave_one_row(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    user = demo.user("maple-court", "dana")
    body = {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}",
        "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA", "auth": "tBHI"},
    }
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/push/subscriptions", json=body, headers=auth(user))
            for _ in range(N)
        )
    )
    assert _statuses(list(responses)) == {201: N}
    assert len({r.json()["id"] for r in responses}) == 1
    async with tenant_session(user.tenant_id) as s:
        rows = (
            await s.exec(
                select(func.count()).where(
                    PushSubscription.endpoint == body["endpoint"]
                )
            )
        ).one()
    assert rows == 1


async def test_parallel_ensure_operator_creates_once(demo: Demo) -> None:
    email = f"ops-{uuid.uuid4().hex[:8]}@platform.example"
    created = await asyncio.gather(
        *(ensure_operator(email, "Ops", "operator-password-1") for _ in range(N))
    )
    assert sorted(created) == [False] * (N - 1) + [True]
    async with platform_session() as s:
        count = (
            await s.exec(select(func.count()).where(Operator.email == email))
        ).one()
    assert count == 1


async def test_parallel_creation_of_one_team_is_one_created_and_conflicts(
    demo: Demo,
) -> None:
    """The console's team form (a service call, no API route): the same mechanism."""
    from app.domain.errors import Conflict
    from app.services.people import save_team
    from tests.api.objects import actor

    admin = actor(demo.user("harbor-bistro", "admin"))
    name = f"Race team {uuid.uuid4().hex[:6]}"
    outcomes = await asyncio.gather(
        *(
            save_team(admin, team_id=None, name=name, member_ids=[], lead_id=None)
            for _ in range(N)
        ),
        return_exceptions=True,
    )
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"UUID": 1, "Conflict": N - 1}, outcomes
    assert all(str(o) for o in outcomes if isinstance(o, Conflict))
