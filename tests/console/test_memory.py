"""The console's memory tab on real PostgreSQL and the real embedding model: add,
browse by scope and source, edit, forget; a forgotten memory is gone from both
retrieval paths (vector and full text) and its embedding with it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from agents.embeddings import embed_query
from agents.retrieval import RetrievalScope, retrieve
from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import Forbidden, Invalid, NotFound
from app.domain.models import AuditEvent
from app.services import memory_console as memories
from tests.conftest import Demo

pytestmark = pytest.mark.usefixtures("clean_db")


TEAMS = {"omar": "maintenance", "grace": "cleaning"}


def actor_of(user: Any) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)


async def _found(demo: Demo, handle: str, query: str) -> list[str]:
    """What `handle` (Maple Court) retrieves for `query`, vector and full text."""
    user = demo.user("maple-court", handle)
    team = demo.team("maple-court", TEAMS[handle])
    scope = RetrievalScope(user.tenant_id, user.id, user.role, (team.id,))
    vector = await embed_query(query)
    assert vector is not None
    async with tenant_session(user.tenant_id) as s:
        by_both = await retrieve(s, scope, query, vector, k=6)
        by_text = await retrieve(s, scope, query, None, k=6)
    return [m.text for m in by_both] + [m.text for m in by_text]


async def test_add_browse_edit_and_forget(demo: Demo, owner_engine: Any) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    word = f"zanzibar{uuid.uuid4().hex[:6]}"
    fact = f"The {word} boiler key hangs in the caretaker's office."
    memory_id = await memories.add_memory(admin, scope="tenant", text=fact)
    assert fact in await _found(demo, "omar", f"where is the {word} boiler key?")

    page = await memories.list_memories(admin, source="console")
    [row] = page.memories
    assert (row.id, row.scope, row.about, row.source, row.embedded) == (
        memory_id,
        "tenant",
        "organisation",
        "added by an admin",
        True,
    )
    seeded = await memories.list_memories(admin, source="seed", scope="team")
    assert seeded.total >= 1 and {m.about for m in seeded.memories} == {"Maintenance"}
    assert (await memories.list_memories(admin, query=word)).total == 1

    edited = fact.replace("caretaker's office", "blue cabinet")
    await memories.edit_memory(admin, memory_id, edited)
    assert await memories.memory_text(admin, memory_id) == edited
    found = await _found(demo, "omar", f"where is the {word} boiler key?")
    assert edited in found and fact not in found

    await memories.forget_memory(admin, memory_id)
    assert not any(word in t for t in await _found(demo, "omar", f"{word} key"))
    with owner_engine.begin() as conn:  # no row, so no embedding, anywhere
        left = conn.execute(
            text("SELECT count(*) FROM memories WHERE text LIKE :w"), {"w": f"%{word}%"}
        ).scalar()
    assert left == 0
    with pytest.raises(NotFound):
        await memories.forget_memory(admin, memory_id)
    async with tenant_session(admin.tenant_id) as s:
        events = (
            await s.exec(
                select(AuditEvent).where(AuditEvent.subject == f"memory:{memory_id}")
            )
        ).all()
    assert [e.kind for e in events] == [
        "memory.created",
        "memory.updated",
        "memory.forgotten",
    ]
    assert not any(word in str(e.data) for e in events)  # no content in the log


async def test_scoped_memories_reach_only_their_scope(demo: Demo) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    word = f"quetzal{uuid.uuid4().hex[:6]}"
    team = demo.team("maple-court", "maintenance")
    await memories.add_memory(
        admin, scope="team", team_id=team.id, text=f"The {word} ladder is in B2."
    )
    await memories.add_memory(
        admin,
        scope="user",
        user_email="OMAR@maple-court.example",
        text=f"Omar keeps the {word} spare keys.",
    )
    query = f"{word} ladder keys"
    assert sum(word in t for t in await _found(demo, "omar", query)) >= 2
    assert not any(word in t for t in await _found(demo, "grace", query))
    page = await memories.list_memories(admin, scope="user", query=word)
    assert [m.about for m in page.memories] == ["Omar Haddad"]

    with pytest.raises(NotFound):
        await memories.add_memory(
            admin, scope="user", user_email="rita@riverside-lofts.example", text="x y"
        )
    other_team = demo.team("riverside-lofts", "maintenance")
    with pytest.raises(NotFound):
        await memories.add_memory(admin, scope="team", team_id=other_team.id, text="x")
    with pytest.raises(Invalid):
        await memories.add_memory(admin, scope="planet", text="x")
    with pytest.raises(Invalid):
        await memories.add_memory(admin, scope="tenant", text="  ")


async def test_other_tenants_and_roles_cannot_touch_memories(demo: Demo) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    memory_id = await memories.add_memory(admin, scope="tenant", text="Gate code 4411")
    other = actor_of(demo.user("riverside-lofts", "admin"))
    for call in (
        memories.forget_memory(other, memory_id),
        memories.edit_memory(other, memory_id, "changed"),
        memories.memory_text(other, memory_id),
    ):
        with pytest.raises(NotFound):
            await call
    assert (await memories.list_memories(other, query="4411")).total == 0
    dana = actor_of(demo.user("maple-court", "dana"))
    with pytest.raises(Forbidden):
        await memories.list_memories(dana)
    with pytest.raises(Forbidden):
        await memories.forget_memory(dana, memory_id)
    assert await memories.memory_text(admin, memory_id) == "Gate code 4411"
