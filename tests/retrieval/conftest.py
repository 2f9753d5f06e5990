"""Retrieval fixtures: synthetic tenants and memories loaded in bulk as the owner.

Bulk rows go in through binary COPY (pgvector's psycopg dumper), which keeps tens of
thousands of 384-d rows to a few seconds; every fixture deletes what it inserted so
the memories table (and its HNSW index) is as it was for the next test module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from pgvector.psycopg import register_vector
from sqlalchemy import text

from agents.retrieval import forget_scope_sizes

DIM = 384
COPY_SQL = (
    "COPY memories (tenant_id, id, scope, team_id, user_id, text, source_type, "
    "source_id, embedding, created_at) FROM STDIN WITH (FORMAT BINARY)"
)
COPY_TYPES = [
    "uuid",
    "uuid",
    "varchar",
    "uuid",
    "uuid",
    "text",
    "varchar",
    "varchar",
    "vector",
    "timestamptz",
]


@dataclass(frozen=True)
class Row:
    tenant_id: uuid.UUID
    id: uuid.UUID
    scope: str
    text: str
    embedding: NDArray[np.float32]
    team_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


def unit_rows(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (vectors / norms).astype(np.float32)
    return unit


def copy_memories(owner_engine: Any, rows: Iterable[Row], source: str) -> None:
    """Binary COPY as the owner (a superuser: COPY FROM skips RLS only for it)."""
    now = datetime.now(UTC)
    raw = owner_engine.raw_connection()
    try:
        conn = raw.driver_connection
        register_vector(conn)
        with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
            copy.set_types(COPY_TYPES)
            for r in rows:
                copy.write_row(
                    (
                        r.tenant_id,
                        r.id,
                        r.scope,
                        r.team_id,
                        r.user_id,
                        r.text,
                        source,
                        r.id.hex,
                        r.embedding,
                        now,
                    )
                )
        raw.commit()
    finally:
        raw.close()


def create_tenants(owner_engine: Any, n: int, prefix: str) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    with owner_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, slug, name, kind, timezone, status, "
                "monthly_token_budget, policy, created_at) VALUES (:id, :slug, "
                ":name, 'other', 'UTC', 'active', 0, '{}', now())"
            ),
            [
                {"id": t, "slug": f"{prefix}-{t.hex[:12]}", "name": f"{prefix} {i}"}
                for i, t in enumerate(ids)
            ],
        )
    return ids


def delete_synthetic(
    owner_engine: Any, source: str, tenant_ids: list[uuid.UUID] | None = None
) -> None:
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM memories WHERE source_type = :s"), {"s": source})
        if tenant_ids:
            conn.execute(
                text("DELETE FROM tenants WHERE id = ANY(:ids)"), {"ids": tenant_ids}
            )
    # Dead index entries would otherwise be walked by every later HNSW scan.
    with owner_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM memories")
        )


@pytest.fixture(scope="session")
def owner_is_superuser(owner_engine: Any) -> None:
    with owner_engine.connect() as conn:
        assert conn.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar(), "bulk COPY into an RLS table needs the superuser owner"


@pytest.fixture
def rng() -> Iterator[np.random.Generator]:
    yield np.random.default_rng(20261125)


@pytest.fixture(autouse=True)
def fresh_scope_sizes() -> Iterator[None]:
    """Every test counts its scopes afresh (the sizes are remembered per process)."""
    forget_scope_sizes()
    yield
    forget_scope_sizes()
