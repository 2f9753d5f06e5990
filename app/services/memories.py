"""The assistant's memory as stored: writing memories once, and embedding the ones
stored while the embedding model was unavailable (the sweeper's job)."""

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
) -> None:
    """Store a turn's memories, each once per (tenant, source_type, source_id), in
    one executemany (psycopg pipelines it: one round trip, not one per memory)."""
    rows = [_row(tenant_id, **m) for m in memories]
    if rows:
        await session.execute(sql(_INSERT), rows)


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


async def embed_pending_memories(tenant_id: uuid.UUID, batch_size: int = 64) -> int:
    """Fill NULL embeddings of one tenant's memories, a batch per transaction."""
    done = 0
    while True:
        async with tenant_session(tenant_id) as session:
            # SKIP LOCKED: two workers embedding the same tenant split the rows
            # instead of both embedding all of them.
            rows = (
                await session.execute(
                    sql("""
                        SELECT id, text FROM memories
                        WHERE tenant_id = :t AND embedding IS NULL
                        ORDER BY created_at, id LIMIT :n
                        FOR UPDATE SKIP LOCKED
                    """),
                    {"t": tenant_id, "n": batch_size},
                )
            ).all()
            if not rows:
                return done
            vectors = await embed_texts([r[1] for r in rows])
            await session.execute(
                sql(
                    "UPDATE memories SET embedding = CAST(:e AS vector) "
                    "WHERE tenant_id = :t AND id = :id AND embedding IS NULL"
                ),
                [
                    {"t": tenant_id, "id": r[0], "e": vector_literal(v)}
                    for r, v in zip(rows, vectors, strict=True)
                ],
            )
            done += len(rows)
        if len(rows) < batch_size:
            return done
