"""POST /api/v1/push/subscriptions refuses every endpoint whose host is, or
resolves to, an internal address, in the JSON error shape; nothing is stored."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import PushSubscription
from tests.api.objects import auth
from tests.conftest import Demo
from tests.core.test_netguard import INTERNAL_HOSTS, INTERNAL_NAMES

KEYS = {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA", "auth": "tBHIJjZ"}


@pytest.mark.parametrize("host", INTERNAL_HOSTS + INTERNAL_NAMES)
async def test_internal_push_endpoints_are_422(
    client: httpx.AsyncClient, demo: Demo, host: str
) -> None:
    ben = demo.user("maple-court", "ben")
    resp = await client.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": f"https://{host}/wpush/v2/abc", "keys": KEYS},
        headers=auth(ben),
    )
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["error"] == "invalid_request" and "push service" in body["message"]
    async with tenant_session(ben.tenant_id) as s:
        assert (await s.exec(select(PushSubscription))).all() == []


async def test_a_public_push_service_is_accepted(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    ben = demo.user("maple-court", "ben")
    resp = await client.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": KEYS},
        headers=auth(ben),
    )
    assert resp.status_code == 201, resp.text
