"""The same client message id submitted 20 times at once (a phone retrying on a bad
network, a double tap), through the REST API and through the chat service the
Reflex page calls: one message, one turn, one reply."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.services.accounts import create_user
from app.services.messages import submit_message
from tests.api.conftest import api_app, client, fresh_rate_limits
from tests.api.objects import actor, auth
from tests.pipeline.conftest import actor_of
from tests.reliability.conftest import WorkerLauncher
from tests.reliability.ledger import tally

__all__ = ["api_app", "client", "fresh_rate_limits"]  # fixtures, used here
pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures("clean_db")]
N = 20


async def _replies(owner_engine: Any, message_id: str, timeout_s: float) -> int:
    sql = text(
        "SELECT count(*) FROM messages WHERE reply_to_id = :m AND author = 'assistant'"
    )
    for _ in range(int(timeout_s * 10)):
        with owner_engine.connect() as conn:
            if conn.execute(sql, {"m": message_id}).scalar():
                break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a second turn would reply now
    with owner_engine.connect() as conn:
        return int(conn.execute(sql, {"m": message_id}).scalar() or 0)


def _count(owner_engine: Any, sender_user_id: uuid.UUID, client_id: str) -> int:
    with owner_engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM messages WHERE sender_user_id = :u"
                    " AND client_message_id = :c"
                ),
                {"u": sender_user_id, "c": client_id},
            ).scalar()
            or 0
        )


async def test_same_client_id_twenty_times_through_the_api(
    client: httpx.AsyncClient, demo: Any, owner_engine: Any, workers: WorkerLauncher
) -> None:
    # A new user: the first message also creates the conversation, concurrently.
    admin = demo.user("maple-court", "admin")
    handle = f"retry{uuid.uuid4().hex[:8]}"
    user = await create_user(
        actor(admin),
        email=f"{handle}@maple-court.example",
        name="Retrying Resident",
        role="employee",
        password="a-long-password",
    )
    body = {"body": "Tell Dana the lift is stuck.", "client_message_id": "tap-1"}
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/messages", json=body, headers=auth(user))
            for _ in range(N)
        )
    )
    assert {r.status_code for r in responses} == {202}, responses[0].text
    ids = {r.json()["message_id"] for r in responses}
    assert sum(r.json()["created"] for r in responses) == 1
    assert len(ids) == 1
    assert _count(owner_engine, user.id, "tap-1") == 1
    workers.start()
    (message_id,) = ids
    replies = await _replies(owner_engine, message_id, 30)
    result = tally(owner_engine, [uuid.UUID(message_id)])
    print(f"\nreliability same-id api: submits={N} replies={replies} {result.line()}")
    assert replies == 1
    assert result.lost == result.duplicated == 0, result.line()


async def test_same_client_id_twenty_times_through_the_chat_service(
    demo: Any, owner_engine: Any, workers: WorkerLauncher
) -> None:
    # What ChatState.send calls, from 20 events of the same tab at once.
    ben = demo.user("maple-court", "ben")
    client_id = f"web-{uuid.uuid4().hex}"
    results = await asyncio.gather(
        *(
            submit_message(
                actor_of(ben), "My kitchen sink is leaking.", client_id, source="chat"
            )
            for _ in range(N)
        )
    )
    assert len({r.message_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert _count(owner_engine, ben.id, client_id) == 1
    workers.start()
    message_id = str(results[0].message_id)
    replies = await _replies(owner_engine, message_id, 30)
    result = tally(owner_engine, [results[0].message_id])
    print(f"\nreliability same-id chat: submits={N} replies={replies} {result.line()}")
    assert replies == 1
    assert result.lost == result.duplicated == 0, result.line()
