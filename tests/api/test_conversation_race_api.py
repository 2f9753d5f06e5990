"""Concurrent first messages share one conversation: the user's chat lists every
one of them (before, each request that found no conversation created its own)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from app.core.db import tenant_session
from app.domain.models import Conversation
from app.services.accounts import create_user
from app.services.messages import submit_event
from tests.api.objects import actor, auth
from tests.conftest import Demo

N = 20


async def _conversations(tenant_id: uuid.UUID, user_id: uuid.UUID | None) -> int:
    owner = (
        Conversation.user_id == user_id
        if user_id
        else col(Conversation.user_id).is_(None)
    )
    async with tenant_session(tenant_id) as s:
        return int((await s.exec(select(func.count()).where(owner))).one())


async def test_concurrent_first_messages_share_one_conversation(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    admin = demo.user("maple-court", "admin")
    handle = f"new{uuid.uuid4().hex[:8]}"
    user = await create_user(
        actor(admin),
        email=f"{handle}@maple-court.example",
        name="New Resident",
        role="employee",
        password="a-long-password",
    )
    headers = auth(user)
    # Warm the connection pool first, so the requests below reach the database
    # together instead of one by one as connections open.
    other = auth(demo.user("maple-court", "dana"))
    await asyncio.gather(
        *(client.get("/api/v1/notifications", headers=other) for _ in range(N))
    )
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/messages",
                json={"body": f"message {i}", "client_message_id": f"c{i}"},
                headers=headers,
            )
            for i in range(N)
        )
    )
    assert [r.status_code for r in responses] == [202] * N, responses[0].text
    assert len({r.json()["conversation_id"] for r in responses}) == 1
    assert await _conversations(user.tenant_id, user.id) == 1
    listed = await client.get("/api/v1/messages", headers=headers)
    assert listed.status_code == 200
    bodies = {m["body"] for m in listed.json()}
    assert bodies == {f"message {i}" for i in range(N)}


async def test_concurrent_first_events_share_one_integrations_channel(
    clean_db: None, demo: Demo
) -> None:
    tenant_id = demo.tenant("harbor-bistro").id
    key_id = uuid.uuid4()
    results = await asyncio.gather(
        *(submit_event(tenant_id, key_id, f"event {i}", f"e{i}") for i in range(N))
    )
    assert len({r.conversation_id for r in results}) == 1
    assert await _conversations(tenant_id, None) == 1
