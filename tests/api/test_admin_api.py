"""Admin (users, API keys), operator (tenants) and integration events."""

from __future__ import annotations

import uuid

import httpx
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import ApiKey, AuditEvent, Message
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo

H = "harbor-bistro"


async def test_admin_creates_lists_disables_users(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    admin = demo.user(H, "admin")
    handle = f"new{uuid.uuid4().hex[:6]}"
    body = {
        "email": f"{handle}@harbor-bistro.example",
        "name": "New Cook",
        "role": "employee",
        "password": "a-long-password",
    }
    created = await client.post("/api/v1/admin/users", json=body, headers=auth(admin))
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["handle"] == handle and user["disabled"] is False
    assert "password" not in user and "password_hash" not in user
    dup = await client.post("/api/v1/admin/users", json=body, headers=auth(admin))
    assert dup.status_code == 409
    listed = await client.get("/api/v1/admin/users", headers=auth(admin))
    assert user["id"] in {u["id"] for u in listed.json()}
    login = await client.post(
        "/api/v1/auth/login",
        json={"tenant": H, "email": body["email"], "password": body["password"]},
    )
    assert login.status_code == 200
    off = await client.post(
        f"/api/v1/admin/users/{user['id']}/disable", headers=auth(admin)
    )
    assert off.status_code == 200 and off.json()["disabled"] is True
    refused = await client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": login.json()["refresh_token"]},
    )
    assert refused.status_code == 401
    itself = await client.post(
        f"/api/v1/admin/users/{admin.id}/disable", headers=auth(admin)
    )
    assert itself.status_code == 422
    bad = await client.post(
        "/api/v1/admin/users",
        json={**body, "email": "not-an-email", "handle": "x"},
        headers=auth(admin),
    )
    assert bad.status_code == 422


async def test_api_key_lifecycle_and_events(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    admin = demo.user(H, "admin")
    created = await client.post(
        "/api/v1/admin/api-keys", json={"name": "POS"}, headers=auth(admin)
    )
    assert created.status_code == 201, created.text
    key = created.json()
    raw = key["key"]
    assert raw.startswith(f"sbk_{admin.tenant_id}.")
    listed = await client.get("/api/v1/admin/api-keys", headers=auth(admin))
    assert [k["id"] for k in listed.json()] == [key["id"]]
    assert "key" not in listed.json()[0]  # shown once, at creation
    async with tenant_session(admin.tenant_id) as s:
        stored = (await s.exec(select(ApiKey))).one()
    assert raw not in (stored.key_hash, stored.prefix)

    event = {"client_event_id": "delivery-17", "text": "GreenFarm delivery arrived"}
    resp = await client.post("/api/v1/events", json=event, headers={"X-API-Key": raw})
    assert resp.status_code == 202, resp.text
    assert resp.json()["created"] is True and resp.json()["status"] == "queued"
    again = await client.post("/api/v1/events", json=event, headers={"X-API-Key": raw})
    assert again.json()["message_id"] == resp.json()["message_id"]
    assert again.json()["created"] is False
    async with tenant_session(admin.tenant_id) as s:
        rows = (await s.exec(select(Message))).all()
    assert len(rows) == 1
    assert rows[0].source == "integration" and rows[0].sender_key == (
        f"apikey:{key['id']}"
    )
    assert rows[0].status == "queued" and rows[0].sender_user_id is None
    # Nothing landed in another tenant.
    async with tenant_session(demo.tenant("maple-court").id) as s:
        assert (await s.exec(select(Message))).all() == []

    revoked = await client.post(
        f"/api/v1/admin/api-keys/{key['id']}/revoke", headers=auth(admin)
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = await client.post(
        "/api/v1/events",
        json={**event, "client_event_id": "after-revoke"},
        headers={"X-API-Key": raw},
    )
    assert after.status_code == 401 and after.json()["error"] == "unauthorized"
    async with tenant_session(admin.tenant_id) as s:
        kinds = [a.kind for a in (await s.exec(select(AuditEvent))).all()]
    assert sorted(kinds) == ["apikey.created", "apikey.revoked"]


async def test_events_refuse_unknown_keys(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    event = {"client_event_id": "e1", "text": "hello"}
    tid = demo.tenant(H).id
    for headers in (
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "garbage"},
        {"X-API-Key": f"sbk_{tid}.not-a-real-secret"},
        {"X-API-Key": f"sbk_{uuid.uuid4()}.whatever"},
        {"X-API-Key": "sbk_not-a-uuid.whatever"},
    ):
        resp = await client.post("/api/v1/events", json=event, headers=headers)
        assert resp.status_code == 401, headers
        assert resp.json()["error"] == "unauthorized"
    # A bearer token is not an API key.
    bearer = await client.post(
        "/api/v1/events", json=event, headers=auth(demo.user(H, "admin"))
    )
    assert bearer.status_code == 401
    async with tenant_session(tid) as s:
        assert (await s.exec(select(Message))).all() == []


async def test_key_of_one_tenant_cannot_be_relabelled(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    created = await client.post(
        "/api/v1/admin/api-keys",
        json={"name": "k"},
        headers=auth(demo.user(H, "admin")),
    )
    raw = created.json()["key"]
    other = demo.tenant("maple-court").id
    forged = f"sbk_{other}.{raw.split('.', 1)[1]}"
    resp = await client.post(
        "/api/v1/events",
        json={"client_event_id": "x", "text": "y"},
        headers={"X-API-Key": forged},
    )
    assert resp.status_code == 401


async def test_operator_creates_tenant_and_its_admin_signs_in(
    client: httpx.AsyncClient, operator: tuple[uuid.UUID, str, str]
) -> None:
    headers = objects.operator_auth(operator[0])
    slug = f"org-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "name": "Corner Cafe",
        "kind": "restaurant",
        "timezone": "Europe/Berlin",
        "admin_email": f"boss@{slug}.example",
        "admin_password": "a-long-password",
    }
    resp = await client.post("/api/v1/operator/tenants", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["slug"] == slug and resp.json()["status"] == "active"
    dup = await client.post("/api/v1/operator/tenants", json=body, headers=headers)
    assert dup.status_code == 409
    bad = await client.post(
        "/api/v1/operator/tenants",
        json={**body, "slug": "Not A Slug!"},
        headers=headers,
    )
    assert bad.status_code == 422
    listed = await client.get("/api/v1/operator/tenants", headers=headers)
    assert slug in {t["slug"] for t in listed.json()}
    login = await client.post(
        "/api/v1/auth/login",
        json={
            "tenant": slug,
            "email": body["admin_email"],
            "password": body["admin_password"],
        },
    )
    assert login.status_code == 200 and login.json()["role"] == "admin"
