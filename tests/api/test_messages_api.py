"""Messages: submit (idempotent, rate-limited), the conversation, one message."""

from __future__ import annotations

import httpx
from sqlmodel import select

from app.core.db import tenant_session
from app.core.settings import get_settings
from app.domain.models import Message
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo


async def test_submit_is_idempotent_and_queued(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    maya = demo.user("harbor-bistro", "maya")
    body = {"body": "Remind the kitchen to clean the fridge", "client_message_id": "c1"}
    first = await client.post("/api/v1/messages", json=body, headers=auth(maya))
    assert first.status_code == 202, first.text
    out = first.json()
    assert out["created"] is True and out["status"] == "queued"
    again = await client.post("/api/v1/messages", json=body, headers=auth(maya))
    assert again.status_code == 202
    assert again.json()["message_id"] == out["message_id"]
    assert again.json()["created"] is False
    async with tenant_session(maya.tenant_id) as s:
        rows = (await s.exec(select(Message))).all()
    assert len(rows) == 1
    assert rows[0].sender_user_id == maya.id and rows[0].source == "chat"
    assert str(rows[0].id) == out["message_id"]


async def test_conversation_includes_assistant_replies(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    luis = demo.user("harbor-bistro", "luis")
    sent = await client.post(
        "/api/v1/messages",
        json={"body": "When is the delivery?", "client_message_id": "q1"},
        headers=auth(luis),
    )
    reply = await objects.message(luis, "Thursday at 07:00.", author="assistant")
    # Someone else's conversation in the same tenant stays out of it.
    await objects.message(demo.user("harbor-bistro", "sam"), "sam's own question")
    resp = await client.get("/api/v1/messages", headers=auth(luis))
    assert resp.status_code == 200
    rows = resp.json()
    assert [m["id"] for m in rows] == [sent.json()["message_id"], str(reply.id)]
    assert [m["author"] for m in rows] == ["user", "assistant"]
    one = await client.get(f"/api/v1/messages/{reply.id}", headers=auth(luis))
    assert one.status_code == 200 and one.json()["body"] == "Thursday at 07:00."
    other = await client.get(
        f"/api/v1/messages/{reply.id}",
        headers=auth(demo.user("harbor-bistro", "sam")),
    )
    assert other.status_code == 404


async def test_submit_rate_limited_per_user(
    client: httpx.AsyncClient, demo: Demo, long_rate_window: int
) -> None:
    priya = demo.user("harbor-bistro", "priya")
    limit = get_settings().message_rate_per_minute
    for i in range(limit):
        resp = await client.post(
            "/api/v1/messages",
            json={"body": f"message {i}", "client_message_id": f"m{i}"},
            headers=auth(priya),
        )
        assert resp.status_code == 202, resp.text
    limited = await client.post(
        "/api/v1/messages",
        json={"body": "one too many", "client_message_id": "over"},
        headers=auth(priya),
    )
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= long_rate_window
    # Another user is not affected.
    ok = await client.post(
        "/api/v1/messages",
        json={"body": "hello", "client_message_id": "x"},
        headers=auth(demo.user("harbor-bistro", "sam")),
    )
    assert ok.status_code == 202
    async with tenant_session(priya.tenant_id) as s:
        mine = await s.exec(select(Message).where(Message.sender_user_id == priya.id))
        assert len(mine.all()) == limit
