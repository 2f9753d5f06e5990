"""The assistant's memory as stored: writing memories once, and storing their
vectors (after the turn that wrote them: app/services/memory_vectors.py; the ones
left without, by the sweeper)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text as sql
from sqlmodel.ext.asyncio.session import AsyncSession

from agents.embeddings import embed_texts
from agents.retrieval import vector_literal
from app.core.db import tenant_session
from app.domain.models import MemoryScope

_INSERT = """
    INSERT INTO memories (tenant_id, id, scope, team_id, user_id, text,
                          source_type, source_id, embedding, created_at)
    VALUES (:tenant_id, :id, :scope, :team_id, :user_id, :text,
            :source_type, :source_id, CAST(:embedding AS vector), now())
    ON CONFLICT (tenant_id, source_type, source_id) DO NOTHING
"""


def _row(
    tenant_id: uuid.UUID,
    scope: MemoryScope | str,
    text: str,
    source_type: str,
    source_id: str,
    team_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    embedding: list[float] | None = None,
) -> dict[str, Any]:
    """One memory's insert parameters, checked."""
    scope_s = MemoryScope(scope).value
    if scope_s == "team" and team_id is None:
        raise ValueError("a team memory needs team_id")
    if scope_s == "user" and user_id is None:
        raise ValueError("a user memory needs user_id")
    if not text.strip():
        raise ValueError("a memory needs text")
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "scope": scope_s,
        "team_id": team_id if scope_s == "team" else None,
        "user_id": user_id if scope_s == "user" else None,
        "text": text.strip(),
        "source_type": source_type,
        "source_id": source_id,
        "embedding": vector_literal(embedding) if embedding is not None else None,
    }


async def remember_all(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    memories: Sequence[Mapping[str, Any]],
) -> list[tuple[uuid.UUID, str]]:
    """Store a turn's memories, each once per (tenant, source_type, source_id), in
    one executemany (psycopg pipelines it: one round trip, not one per memory).
    Returns (id, text) of those stored without a vector, to embed after commit; an
    id whose row existed already matches nothing later."""
    rows = [_row(tenant_id, **m) for m in memories]
    if rows:
        await session.execute(sql(_INSERT), rows)
    return [(r["id"], r["text"]) for r in rows if r["embedding"] is None]


async def remember(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    scope: MemoryScope | str,
    text: str,
    source_type: str,
    source_id: str,
    team_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    embedding: list[float] | None = None,
) -> uuid.UUID:
    """Store a memory once per (tenant, source_type, source_id); returns its id."""
    params = _row(
        tenant_id, scope, text, source_type, source_id, team_id, user_id, embedding
    )
    inserted = (
        await session.execute(
            sql(_INSERT + "RETURNING id"),
            params,
        )
    ).scalar_one_or_none()
    if inserted is not None:
        return uuid.UUID(str(inserted))
    existing = (
        await session.execute(
            sql(
                "SELECT id FROM memories WHERE tenant_id = :t "
                "AND source_type = :st AND source_id = :si"
            ),
            {"t": tenant_id, "st": source_type, "si": source_id},
        )
    ).scalar_one()
    return uuid.UUID(str(existing))


async def store_vectors(
    tenant_id: uuid.UUID, memories: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Embed the memories (id, text) and store each vector where the row still has
    none (an id whose insert lost a race, or a row edited meanwhile, is left)."""
    vectors = await embed_texts([text for _, text in memories], background=True)
    async with tenant_session(tenant_id) as session:
        await session.execute(
            sql(
                "UPDATE memories SET embedding = CAST(:e AS vector) "
                "WHERE tenant_id = :t AND id = :id AND embedding IS NULL"
            ),
            [
                {"t": tenant_id, "id": memory_id, "e": vector_literal(vector)}
                for (memory_id, _), vector in zip(memories, vectors, strict=True)
            ],
        )


async def embed_pending_memories(
    tenant_id: uuid.UUID, older_than_s: float = 0.0, batch_size: int = 64
) -> int:
    """Fill NULL embeddings of one tenant's memories stored more than
    `older_than_s` ago (younger ones are still being embedded by their turn:
    app/services/memory_vectors.py), a batch at a time. No transaction stays open
    while the model runs: a hosted model may take seconds."""
    done = 0
    while True:
        async with tenant_session(tenant_id) as session:
            rows = (
                await session.execute(
                    sql("""
                        SELECT id, text FROM memories
                        WHERE tenant_id = :t AND embedding IS NULL
                          AND created_at < now() - make_interval(secs => :age)
                        ORDER BY created_at, id LIMIT :n
                    """),
                    {"t": tenant_id, "n": batch_size, "age": older_than_s},
                )
            ).all()
        if not rows:
            return done
        await store_vectors(tenant_id, [(r[0], r[1]) for r in rows])
        done += len(rows)
        if len(rows) < batch_size:
            return done
