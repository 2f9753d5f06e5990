"""A tenant's own HNSW index (app/core/tenant_vector_index.py) on real pgvector.

One large tenant (3,000 clustered memories) next to a small one: the maintenance
run builds an index for the large tenant only, retrieval in `auto` mode switches to
it (the plan names it), keeps recall against a brute-force answer, never returns
another tenant's rows, and a broken (invalid) index is dropped and rebuilt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import text

import agents.retrieval as retrieval
from agents.retrieval import (
    RetrievalScope,
    choose_mode,
    forget_scope_sizes,
    vector_candidates,
    vector_literal,
)
from app import cli
from app.core.db import tenant_session
from app.core.tenant_vector_index import (
    BUILD_RELOPTIONS,
    ensure_tenant_indexes,
    index_name,
)
from tests.retrieval.conftest import (
    DIM,
    Row,
    copy_memories,
    create_tenants,
    delete_synthetic,
    unit_rows,
)

SOURCE = "own-index-test"
LARGE, SMALL = 3_000, 300
MIN_ROWS = 1_000
TOPICS = 60
NOISE = 0.05
K = 10


@dataclass
class Corpus:
    large: uuid.UUID
    small: uuid.UUID
    ids: dict[uuid.UUID, list[uuid.UUID]]
    vectors: dict[uuid.UUID, NDArray[np.float32]]
    centres: NDArray[np.float32]

    def exact_top(self, tenant: uuid.UUID, q: NDArray[np.float32]) -> set[Any]:
        order = np.argsort(-(self.vectors[tenant] @ q))[:K]
        return {self.ids[tenant][i] for i in order}


def _drop_own_indexes(owner_engine: Any, *tenants: uuid.UUID) -> None:
    with owner_engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for t in tenants:
            conn.execute(text(f'DROP INDEX IF EXISTS "{index_name(t)}"'))


@pytest.fixture(scope="module")
def corpus(owner_engine: Any, owner_is_superuser: None) -> Iterator[Corpus]:
    rng = np.random.default_rng(20261128)
    large, small = create_tenants(owner_engine, 2, "own-index")
    centres = unit_rows(rng.standard_normal((TOPICS, DIM)).astype(np.float32))
    ids: dict[uuid.UUID, list[uuid.UUID]] = {}
    vectors: dict[uuid.UUID, NDArray[np.float32]] = {}
    rows: list[Row] = []
    for t, n in ((large, LARGE), (small, SMALL)):
        topics = rng.integers(0, TOPICS, n)
        noise = rng.normal(0.0, NOISE, (n, DIM)).astype(np.float32)
        vectors[t] = unit_rows(centres[topics] + noise)
        ids[t] = [uuid.uuid4() for _ in range(n)]
        rows += [
            Row(t, i, "tenant", f"memory {k}", v)
            for k, (i, v) in enumerate(zip(ids[t], vectors[t], strict=True))
        ]
    copy_memories(owner_engine, rows, SOURCE)
    with owner_engine.begin() as conn:
        conn.execute(text("ANALYZE memories"))
    try:
        yield Corpus(large, small, ids, vectors, centres)
    finally:
        _drop_own_indexes(owner_engine, large, small)
        delete_synthetic(owner_engine, SOURCE, [large, small])
        forget_scope_sizes()


def _query(corpus: Corpus, rng: np.random.Generator) -> NDArray[np.float32]:
    centre = corpus.centres[int(rng.integers(TOPICS))]
    noise = rng.normal(0.0, NOISE, DIM).astype(np.float32)
    q: NDArray[np.float32] = unit_rows((centre + noise)[None])[0]
    return q


def _index_with_pgvector_defaults(owner_engine: Any, tenant: uuid.UUID) -> None:
    """A tenant's own index as built by hand or by an earlier release."""
    with owner_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text(
                f'CREATE INDEX "{index_name(tenant)}" ON memories USING hnsw '
                f"(embedding vector_cosine_ops) WHERE tenant_id = '{tenant}'"
            )
        )


async def test_the_large_tenant_gets_its_own_index_and_retrieval_uses_it(
    corpus: Corpus, owner_engine: Any
) -> None:
    report = ensure_tenant_indexes(min_rows=MIN_ROWS)
    assert corpus.large in report.created and corpus.small not in report.created
    again = ensure_tenant_indexes(min_rows=MIN_ROWS)
    assert corpus.large not in again.created and again.kept >= 1

    forget_scope_sizes()
    large = RetrievalScope(corpus.large, uuid.uuid4(), "manager")
    small = RetrievalScope(corpus.small, uuid.uuid4(), "manager")
    rng = np.random.default_rng(5)
    recalls = []
    async with tenant_session(corpus.large) as s:
        assert await choose_mode(s, large) == "tenant_hnsw"
        q = _query(corpus, rng)
        plan = "\n".join(
            r[0]
            for r in (
                await s.execute(
                    text("EXPLAIN " + retrieval._tenant_hnsw_sql(corpus.large).text),
                    {
                        **retrieval._params(large),
                        "q": vector_literal(q.tolist()),
                        "n": K,
                        "fetch": K * retrieval.HNSW_OVERFETCH,
                    },
                )
            ).all()
        )
        assert index_name(corpus.large) in plan, plan
    for _ in range(12):
        q = _query(corpus, rng)
        async with tenant_session(corpus.large) as s:
            hits = await vector_candidates(s, large, q.tolist(), K)
        got = {i for i, _ in hits}
        assert got <= set(corpus.ids[corpus.large])  # never another tenant's row
        recalls.append(len(got & corpus.exact_top(corpus.large, q)) / K)
    assert np.mean(recalls) >= 0.95, recalls
    # The small tenant keeps the exact scan: no index of its own.
    async with tenant_session(corpus.small) as s:
        assert await choose_mode(s, small) == "exact"


async def test_an_invalid_index_is_dropped_and_rebuilt(
    corpus: Corpus, owner_engine: Any
) -> None:
    ensure_tenant_indexes(min_rows=MIN_ROWS)
    name = index_name(corpus.large)
    # What a failed CREATE INDEX CONCURRENTLY leaves behind.
    with owner_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE pg_index SET indisvalid = false "
                "WHERE indexrelid = CAST(:n AS regclass)"
            ),
            {"n": name},
        )
    forget_scope_sizes()
    scope = RetrievalScope(corpus.large, uuid.uuid4(), "manager")
    async with tenant_session(corpus.large) as s:
        # Never the broken index: the shared strategies instead.
        assert await choose_mode(s, scope) == "exact"
    report = ensure_tenant_indexes(min_rows=MIN_ROWS)
    assert name in report.dropped and corpus.large in report.created
    forget_scope_sizes()
    async with tenant_session(corpus.large) as s:
        assert await choose_mode(s, scope) == "tenant_hnsw"


async def test_an_index_built_with_other_options_is_rebuilt(
    corpus: Corpus, owner_engine: Any
) -> None:
    ensure_tenant_indexes(min_rows=MIN_ROWS)
    name = index_name(corpus.large)
    # What an earlier release built: pgvector's defaults.
    with owner_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text(f'DROP INDEX "{name}"')
        )
    _index_with_pgvector_defaults(owner_engine, corpus.large)
    report = ensure_tenant_indexes(min_rows=MIN_ROWS)
    assert name in report.dropped and corpus.large in report.created
    with owner_engine.connect() as conn:
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = :n"), {"n": name}
        ).scalar_one()
    assert set(options) == BUILD_RELOPTIONS == {"m=16", "ef_construction=128"}
    assert ensure_tenant_indexes(min_rows=MIN_ROWS).kept >= 1  # and then kept


async def test_a_deleted_tenants_index_is_dropped(owner_engine: Any) -> None:
    (gone,) = create_tenants(owner_engine, 1, "own-index-gone")
    _index_with_pgvector_defaults(owner_engine, gone)
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": gone})
    report = ensure_tenant_indexes(min_rows=MIN_ROWS)
    assert index_name(gone) in report.dropped


def test_the_maintenance_command_reports_what_it_did(
    corpus: Corpus, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["vector-indexes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("vector indexes: ") and " MB" in out
