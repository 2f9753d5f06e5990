"""Notifications, tasks and push subscriptions of the signed-in user."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.core.db import tenant_session
from app.core.secrets import vapid_public_key_b64
from app.domain.models import AuditEvent, PushSubscription
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo

KEYS = {
    "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u",
    "auth": "tBHItJI5svbpez7KI4CCXg",
}


async def test_notifications_unread_filter_and_mark_read(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    omar = demo.user("maple-court", "omar")
    a = await objects.notification(omar, "Leak in 4B")
    b = await objects.notification(omar, "Garden Wednesday")
    await objects.notification(demo.user("maple-court", "grace"), "not omar's")
    listed = await client.get("/api/v1/notifications", headers=auth(omar))
    assert {n["id"] for n in listed.json()} == {str(a.id), str(b.id)}
    read = await client.post(f"/api/v1/notifications/{a.id}/read", headers=auth(omar))
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = await client.get("/api/v1/notifications?unread=true", headers=auth(omar))
    assert [n["id"] for n in unread.json()] == [str(b.id)]
    count = await client.post("/api/v1/notifications/read-all", headers=auth(omar))
    assert count.json() == {"count": 1}
    unread = await client.get("/api/v1/notifications?unread=true", headers=auth(omar))
    assert unread.json() == []
    # Grace's notification was not touched by Omar's read-all.
    grace = await client.get(
        "/api/v1/notifications?unread=true",
        headers=auth(demo.user("maple-court", "grace")),
    )
    assert len(grace.json()) == 1


async def test_task_status_update_is_audited(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    omar = demo.user("maple-court", "omar")
    task = await objects.task(
        omar.tenant_id,
        title="Fix the boiler",
        assignee_team_id=demo.team("maple-court", "maintenance").id,
    )
    resp = await client.patch(
        f"/api/v1/tasks/{task.id}", json={"status": "in_progress"}, headers=auth(omar)
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "in_progress"
    assert (await objects.reload(task)).status == "in_progress"
    async with tenant_session(omar.tenant_id) as s:
        audit = (await s.exec(select(AuditEvent))).all()
    assert [(a.kind, a.actor) for a in audit] == [("task.status", f"user:{omar.id}")]
    bad = await client.patch(
        f"/api/v1/tasks/{task.id}", json={"status": "exploded"}, headers=auth(omar)
    )
    assert bad.status_code == 422


async def test_push_subscriptions_add_list_remove(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    ben = demo.user("maple-court", "ben")
    sub = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": KEYS}
    added = await client.post("/api/v1/push/subscriptions", json=sub, headers=auth(ben))
    assert added.status_code == 201, added.text
    # The same endpoint again updates the row instead of adding a second one.
    again = await client.post(
        "/api/v1/push/subscriptions",
        json={**sub, "expirationTime": None},
        headers=auth(ben),
    )
    assert again.json()["id"] == added.json()["id"]
    listed = await client.get("/api/v1/push/subscriptions", headers=auth(ben))
    assert [s["id"] for s in listed.json()] == [added.json()["id"]]
    gone = await client.delete(
        f"/api/v1/push/subscriptions/{added.json()['id']}", headers=auth(ben)
    )
    assert gone.status_code == 204
    async with tenant_session(ben.tenant_id) as s:
        assert (await s.exec(select(PushSubscription))).all() == []


async def test_push_subscription_validation(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    ben = demo.user("maple-court", "ben")
    for endpoint in (
        "http://push.example.net/x",  # not https
        "https://127.0.0.1/x",  # an address inside the network
        "https://localhost/x",
        "https://user:pw@push.example.net/x",
        "not a url",
    ):
        resp = await client.post(
            "/api/v1/push/subscriptions",
            json={"endpoint": endpoint, "keys": KEYS},
            headers=auth(ben),
        )
        assert resp.status_code == 422, endpoint
        assert resp.json()["error"] == "invalid_request"
    bad_key = await client.post(
        "/api/v1/push/subscriptions",
        json={
            "endpoint": "https://push.example.net/x",
            "keys": {"p256dh": "not base64!", "auth": "a"},
        },
        headers=auth(ben),
    )
    assert bad_key.status_code == 422


async def test_vapid_public_key(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/push/vapid-public-key")
    assert resp.status_code == 200
    assert resp.json() == {"public_key": vapid_public_key_b64()}
    assert len(resp.json()["public_key"]) == 87  # 65-byte point, base64url
