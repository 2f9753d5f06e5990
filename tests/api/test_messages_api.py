"""Messages: submit (idempotent, rate-limited), the conversation, one message."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.core.settings import get_settings
from app.domain.models import Message
from app.services import messages
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo
from tests.factories import long_conversation


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


async def test_submit_while_the_queue_is_down_is_accepted_as_received(
    client: httpx.AsyncClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message is committed before it is queued: with Redis unreachable it is
    still accepted, and says it is not queued yet (the sweeper queues it)."""

    async def redis_down(*args: object) -> bool:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(messages, "enqueue_message", redis_down)
    maya = demo.user("harbor-bistro", "maya")
    body = {"body": "The dishwasher is leaking", "client_message_id": "down-1"}
    resp = await client.post("/api/v1/messages", json=body, headers=auth(maya))
    assert resp.status_code == 202, resp.text
    assert resp.json()["created"] is True and resp.json()["status"] == "received"
    async with tenant_session(maya.tenant_id) as s:
        [row] = (await s.exec(select(Message))).all()
    assert (str(row.id), row.status) == (resp.json()["message_id"], "received")


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


async def test_conversation_pages_back_with_before(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    luis = demo.user("harbor-bistro", "luis")
    async with tenant_session(luis.tenant_id) as s:
        await long_conversation(s, luis.tenant_id, luis.id, 7)
    newest = await client.get("/api/v1/messages?limit=3", headers=auth(luis))
    assert [m["body"] for m in newest.json()] == [
        "History 005",
        "History 006",
        "History 007",
    ]
    first = newest.json()[0]["id"]
    older = await client.get(
        f"/api/v1/messages?limit=3&before={first}", headers=auth(luis)
    )
    assert [m["body"] for m in older.json()] == [
        "History 002",
        "History 003",
        "History 004",
    ]
    # Another person's message is no cursor for luis; a malformed id is a 422.
    sam = demo.user("harbor-bistro", "sam")
    async with tenant_session(sam.tenant_id) as s:
        (theirs, *_) = await long_conversation(s, sam.tenant_id, sam.id, 1)
    resp = await client.get(f"/api/v1/messages?before={theirs.id}", headers=auth(luis))
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"
    bad = await client.get("/api/v1/messages?before=nope", headers=auth(luis))
    assert bad.status_code == 422
