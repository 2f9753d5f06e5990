"""Submitting a message: committed first (into the sender's conversation, made on
the first message), queued after, and a resend is the same message. No worker runs
here, so what a submit leaves is what these tests read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

import app.services.messages as messages
from app.core import tenant_gate
from app.core.db import app_engine, tenant_session
from app.core.settings import get_settings
from app.domain.models import Conversation, Message
from app.services.messages import submit_event, submit_message
from tests.pipeline.conftest import actor_of

pytestmark = pytest.mark.usefixtures("clean_db")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The statements sent to PostgreSQL, by their first words (the RLS scope's
    set_config left out: every transaction sends it)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "set_config" not in statement:
            seen.append(" ".join(statement.split()[:3]).upper())

    engine = app_engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


async def _stored(tenant_id: uuid.UUID) -> list[Message]:
    async with tenant_session(tenant_id) as s:
        return list((await s.exec(select(Message))).all())


async def _conversations(tenant_id: uuid.UUID) -> list[Conversation]:
    async with tenant_session(tenant_id) as s:
        return list((await s.exec(select(Conversation))).all())


async def test_first_message_makes_the_conversation_and_later_ones_join_it(
    demo: Any,
) -> None:
    maya, sam = demo.user("harbor-bistro", "maya"), demo.user("harbor-bistro", "sam")
    first = await submit_message(actor_of(maya), "The fridge door sticks", "c1")
    second = await submit_message(actor_of(maya), "And the freezer too", "c2")
    other = await submit_message(actor_of(sam), "Is the fridge fixed?", "c1")
    assert first.created and second.created and other.created
    assert first.conversation_id == second.conversation_id != other.conversation_id
    owners = {c.id: c.user_id for c in await _conversations(maya.tenant_id)}
    assert owners == {first.conversation_id: maya.id, other.conversation_id: sam.id}
    stored = {m.id: m for m in await _stored(maya.tenant_id)}
    assert {m.status for m in stored.values()} == {"queued"}
    assert (first.status, second.status, other.status) == ("queued",) * 3
    assert stored[second.message_id].body == "And the freezer too"
    assert stored[second.message_id].sender_key == actor_of(maya).ref
    assert stored[other.message_id].conversation_id == other.conversation_id


async def test_a_message_into_an_existing_conversation_is_one_insert(
    demo: Any, statements: list[str]
) -> None:
    maya = demo.user("harbor-bistro", "maya")
    await submit_message(actor_of(maya), "The fridge door sticks", "c1")
    statements.clear()
    await submit_message(actor_of(maya), "And the freezer too", "c2")
    # The insert finds the conversation itself; then the queued mark.
    assert statements == ["INSERT INTO MESSAGES", "UPDATE MESSAGES SET"], statements


async def test_a_resend_is_the_same_message_with_its_status(demo: Any) -> None:
    maya = demo.user("harbor-bistro", "maya")
    first = await submit_message(actor_of(maya), "Order more napkins", "same")
    async with tenant_session(maya.tenant_id) as s:
        row = await s.get(Message, (maya.tenant_id, first.message_id))
        assert row is not None
        row.status = "done"
    again = await submit_message(actor_of(maya), "Order more napkins!", "same")
    assert (again.message_id, again.conversation_id) == (
        first.message_id,
        first.conversation_id,
    )
    assert (again.created, again.status) == (False, "done")
    [only] = await _stored(maya.tenant_id)
    assert only.body == "Order more napkins"


async def test_a_resend_of_a_first_message_is_not_a_second_one(demo: Any) -> None:
    """The resend misses the conversation-joining insert for the other reason: the
    conversation exists and the client id is taken."""
    luis = demo.user("harbor-bistro", "luis")
    first = await submit_message(actor_of(luis), "Hello", "hello-1")
    again = await submit_message(actor_of(luis), "Hello", "hello-1")
    assert again.message_id == first.message_id and not again.created
    assert len(await _stored(luis.tenant_id)) == 1
    assert len(await _conversations(luis.tenant_id)) == 1


async def test_integration_events_share_the_tenants_channel(demo: Any) -> None:
    maya = demo.user("harbor-bistro", "maya")
    key_a, key_b = uuid.uuid4(), uuid.uuid4()
    one = await submit_event(maya.tenant_id, key_a, "Delivery arrived", "e1")
    two = await submit_event(maya.tenant_id, key_b, "Delivery late", "e1")
    chat = await submit_message(actor_of(maya), "Who signed for it?", "e1")
    assert one.created and two.created and chat.created
    assert one.conversation_id == two.conversation_id != chat.conversation_id
    owners = {c.id: c.user_id for c in await _conversations(maya.tenant_id)}
    assert owners[one.conversation_id] is None
    events = [m for m in await _stored(maya.tenant_id) if m.author == "event"]
    assert {m.sender_key for m in events} == {f"apikey:{key_a}", f"apikey:{key_b}"}
    assert all(m.sender_user_id is None for m in events)


async def test_queueing_that_fails_leaves_it_received_for_the_sweeper(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def redis_down(*args: Any) -> bool:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(messages, "enqueue_message", redis_down)
    maya = demo.user("harbor-bistro", "maya")
    result = await submit_message(actor_of(maya), "The fridge door sticks", "c1")
    assert result.created and result.status == "received"
    [row] = await _stored(maya.tenant_id)
    assert (row.id, row.status) == (result.message_id, "received")


async def test_a_tenants_submits_wait_at_its_gate_and_others_go_past(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "tenant_submit_concurrency", 1)
    maya = demo.user("harbor-bistro", "maya")
    other = demo.user("maple-court", "dana")
    held = asyncio.Event()
    release = asyncio.Event()

    async def busy_submit() -> None:  # maya's tenant's one place, taken
        async with tenant_gate.submits(maya.tenant_id):
            held.set()
            await release.wait()

    holder = asyncio.create_task(busy_submit())
    await held.wait()
    waiting = asyncio.create_task(
        submit_message(actor_of(maya), "Is the fridge fixed?", "gate-1")
    )
    passed = await asyncio.wait_for(
        submit_message(actor_of(other), "Hello", "gate-2"), timeout=10
    )
    assert passed.created and not waiting.done()
    release.set()
    await holder
    assert (await asyncio.wait_for(waiting, timeout=10)).created
