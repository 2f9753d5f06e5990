"""Retrieval at scale: recall@10 against an exact scan, and latency, per tenant size.

    python -m bench.retrieval                  # 20,000 memories, about 2 min
    python -m bench.retrieval --rows 1000000 --name retrieval_1m
                                               # the 1M target (the load and the
                                               # HNSW builds: 10 to 30 minutes)

Synthetic but clustered vectors (shared topics, like real memories: uniform random
384-d vectors are all equidistant) spread over skewed tenants, a few large and most
small, in the real `memories` table with its real HNSW index, in a throwaway
PostgreSQL. At 1M rows: 3 tenants of 100k, 20 of 10k and ~1,000 of a few hundred;
smaller runs keep the proportions and the small tenants' size.

Side by side, for each size class:
- `naive_hnsw`: `WHERE tenant_id = X ORDER BY embedding <=> q LIMIT 10` on the HNSW
  index (what memory layers such as mem0 ship; a generic plan or stale statistics
  put it there): the filter runs after the index scan, so rows go missing;
- `naive_planned`: the same query where the planner chooses (both naive queries,
  and `hnsw` below, run before the tenants' own indexes exist: the table as a
  memory layer without them has it);
- `exact`, `hnsw` (iterative scan, relaxed order, over-fetch and re-sort, on the
  shared graph) and `auto` (what a turn runs, agents/retrieval.py `choose_mode`:
  exact for small scopes, the tenant's own HNSW index where the maintenance run
  built one (tenants with TENANT_VECTOR_INDEX_MIN_ROWS memories or more: at 1M the
  large and medium classes), else exact up to EXACT_SCAN_MAX_ROWS and the shared
  graph beyond).
Each tenant is queried by one user, as a tenant's staff ask again and again: the
scope's size (which picks exact or HNSW) is counted on its first query and then
remembered (agents.retrieval.scope_size); that cold count is reported apart.
Writes bench/results/<name>.json (retrieval.json by default).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pgvector.psycopg import register_vector
from sqlalchemy import create_engine, text
from sqlalchemy import pool as sa_pool

import agents.retrieval as retrieval
from agents.retrieval import Mode, RetrievalScope, vector_candidates, vector_literal
from app.core.db import owner_url, tenant_session
from app.core.settings import get_settings
from app.core.tenant_vector_index import BUILD_OPTIONS, ensure_tenant_indexes
from bench.machine import (
    latency_summary,
    machine,
    stop_on_sigterm,
    target,
    write_result,
)
from devtools.stack import run_async, throwaway_stack

DIM = 384
TOPICS = 200
NOISE = 0.05  # per-dimension noise around a topic centre
K = 10
SOURCE = "bench-retrieval"
SMALL_SIZES = (200, 800)  # "a few hundred"
COPY_SQL = (
    "COPY memories (tenant_id, id, scope, text, source_type, source_id, embedding, "
    "created_at) FROM STDIN WITH (FORMAT BINARY)"
)
COPY_TYPES = ["uuid", "uuid", "varchar", "text", "varchar", "varchar", "vector"] + [
    "timestamptz"
]
FORCE_HNSW = (
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL enable_bitmapscan = off",
    "SET LOCAL enable_sort = off",
)
NAIVE_SQL = text(
    "SELECT id FROM memories WHERE tenant_id = :t "
    "ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
)
SHARED_METHODS = ("naive_hnsw", "naive_planned", "hnsw")
TURN_METHODS = ("exact", "auto")
METHODS = SHARED_METHODS + TURN_METHODS


async def warm_up(corpus: Corpus, methods: tuple[str, ...]) -> None:
    """Plan caches and each large and medium tenant's index pages: one query
    each (on a memory of its own, not a measured question), as a tenant that
    asks all day has them in memory."""
    for t in corpus.classes["large"] + corpus.classes["medium"]:
        q = corpus.vectors[t][0]
        for method in methods:
            await run_query(method, scope_of(corpus, t), q)


@dataclass
class Corpus:
    classes: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    users: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    ids: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    vectors: dict[uuid.UUID, NDArray[np.float32]] = field(default_factory=dict)
    rows: int = 0

    def exact_top(self, tenant: uuid.UUID, q: NDArray[np.float32]) -> set[uuid.UUID]:
        order = np.argsort(-(self.vectors[tenant] @ q))[:K]
        return {self.ids[tenant][i] for i in order}


def unit(v: NDArray[np.float32]) -> NDArray[np.float32]:
    out: NDArray[np.float32] = (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(
        np.float32
    )
    return out


def tenant_sizes(rows: int, rng: np.random.Generator) -> dict[str, list[int]]:
    """3 tenants with 10% of the rows each, 20 with 1%, the rest a few hundred."""
    large = [rows // 10] * 3
    medium = [rows // 100] * 20
    left = rows - sum(large) - sum(medium)
    small: list[int] = []
    while left > SMALL_SIZES[0]:
        n = min(left, int(rng.integers(*SMALL_SIZES)))
        small.append(n)
        left -= n
    return {"large": large, "medium": medium, "small": small}


def build_corpus(engine: Any, rows: int, rng: np.random.Generator) -> Corpus:
    corpus = Corpus()
    centres = unit(rng.standard_normal((TOPICS, DIM)).astype(np.float32))
    sizes = tenant_sizes(rows, rng)
    tenants = {c: [uuid.uuid4() for _ in s] for c, s in sizes.items()}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, slug, name, kind, timezone, status, "
                "monthly_token_budget, policy, created_at) VALUES (:id, :slug, "
                ":name, 'other', 'UTC', 'active', 0, '{}', now())"
            ),
            [
                {"id": t, "slug": f"bench-{t.hex[:12]}", "name": f"bench {c} {i}"}
                for c, ts in tenants.items()
                for i, t in enumerate(ts)
            ],
        )
    now = datetime.now(UTC)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        register_vector(conn)
        with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
            copy.set_types(COPY_TYPES)
            for cls, ts in tenants.items():
                corpus.classes[cls] = ts
                for t, n in zip(ts, sizes[cls], strict=True):
                    topics = rng.integers(0, TOPICS, n)
                    noise = rng.normal(0.0, NOISE, (n, DIM)).astype(np.float32)
                    vecs = unit(centres[topics] + noise)
                    ids = [uuid.uuid4() for _ in range(n)]
                    corpus.vectors[t], corpus.ids[t] = vecs, ids
                    corpus.users[t] = uuid.uuid4()
                    for i, v in zip(ids, vecs, strict=True):
                        copy.write_row((t, i, "tenant", "m", SOURCE, i.hex, v, now))
                    corpus.rows += n
        raw.commit()
    finally:
        raw.close()
    return corpus


def drop_index(engine: Any) -> str:
    """Drop the HNSW index before the bulk load (maintaining it row by row is many
    times slower than one build); returns its definition."""
    with engine.begin() as conn:
        ddl = str(
            conn.execute(
                text("SELECT pg_get_indexdef('ix_memories_embedding'::regclass)")
            ).scalar_one()
        )
        conn.execute(text("DROP INDEX ix_memories_embedding"))
    return ddl


def build_index(engine: Any, ddl: str, rows: int) -> dict[str, float]:
    """The HNSW index built once over the loaded rows: build time and size. The
    graph must fit in maintenance_work_mem (about 2.3 kB a row at 384 dimensions),
    or the build falls back to inserting on disk, many times slower."""
    work_mem_mb = min(4096, max(512, rows * 3 // 1024))
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"SET LOCAL maintenance_work_mem = '{work_mem_mb}MB'"))
        conn.execute(text(ddl))
        conn.execute(text("ANALYZE memories"))
        size, table = conn.execute(
            text(
                "SELECT pg_relation_size('ix_memories_embedding'::regclass), "
                "pg_table_size('memories'::regclass)"
            )
        ).one()
    return {
        "build_s": round(time.perf_counter() - started, 2),
        "index_mb": round(size / 1024 / 1024, 1),
        "table_mb": round(table / 1024 / 1024, 1),
        "maintenance_work_mem_mb": work_mem_mb,
    }


async def run_query(
    method: str, scope: RetrievalScope, q: NDArray[np.float32]
) -> tuple[list[uuid.UUID], float]:
    """One query by `method`; returns ids and the statement time in ms."""
    tenant = scope.tenant_id
    embedding = q.tolist()
    async with tenant_session(tenant) as s:
        if method in ("naive_hnsw", "hnsw"):
            for statement in FORCE_HNSW:  # the index, not the btree plan
                await s.execute(text(statement))
        started = time.perf_counter()
        if method.startswith("naive"):
            params = {"t": tenant, "q": vector_literal(embedding), "k": K}
            ids = list((await s.execute(NAIVE_SQL, params)).scalars())
        else:
            mode: Mode = method  # type: ignore[assignment]
            hits = await vector_candidates(s, scope, embedding, K, mode)
            ids = [i for i, _ in hits]
        return ids, (time.perf_counter() - started) * 1000


def scope_of(corpus: Corpus, tenant: uuid.UUID) -> RetrievalScope:
    return RetrievalScope(tenant, corpus.users[tenant], "manager")


async def cold_scope_sizes(corpus: Corpus) -> dict[str, Any]:
    """What the first query of a scope pays once per process and TTL: the bounded
    count that picks the strategy (then remembered)."""
    out: dict[str, Any] = {}
    for cls, tenants in corpus.classes.items():
        ms = []
        for t in tenants[:20]:
            retrieval.forget_scope_sizes()
            async with tenant_session(t) as s:
                started = time.perf_counter()
                await retrieval.scope_size(s, scope_of(corpus, t))
                ms.append((time.perf_counter() - started) * 1000)
        out[cls] = latency_summary(ms)
    retrieval.forget_scope_sizes()
    return out


Queries = dict[str, tuple[list[uuid.UUID], list[NDArray[np.float32]]]]


def make_queries(corpus: Corpus, queries: int, rng: np.random.Generator) -> Queries:
    """Per size class: the tenants asked and one query each, near one of the
    tenant's own memories (a real question is about something the tenant talks
    about). Made once, so every method answers the same questions."""
    centres_rng = np.random.default_rng(int(rng.integers(1 << 30)))
    out: Queries = {}
    for cls, tenants in corpus.classes.items():
        picks = [tenants[i % len(tenants)] for i in range(queries)]
        qs = []
        for t in picks:
            base = corpus.vectors[t][int(centres_rng.integers(len(corpus.ids[t])))]
            qs.append(unit(base + centres_rng.normal(0, NOISE, DIM).astype(np.float32)))
        out[cls] = (picks, qs)
    return out


async def warm_strategies(corpus: Corpus, queries: Queries) -> None:
    """What a scope's first query pays once per process and TTL (its bounded size
    count and the own-index lookup, reported apart as `scope_size_cold`), paid
    before the timed queries."""
    retrieval.forget_scope_sizes()
    for picks, _ in queries.values():
        for t in dict.fromkeys(picks):
            async with tenant_session(t) as s:
                await retrieval.choose_mode(s, scope_of(corpus, t))


async def measure(
    corpus: Corpus, queries: Queries, methods: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cls, (picks, qs) in queries.items():
        tenants = corpus.classes[cls]
        sizes = [len(corpus.ids[t]) for t in tenants]
        per: dict[str, Any] = {
            "tenants": len(tenants),
            "rows_per_tenant": int(np.median(sizes)),
        }
        for method in methods:
            recalls, returned, ms = [], [], []
            for t, q in zip(picks, qs, strict=True):
                ids, took = await run_query(method, scope_of(corpus, t), q)
                want = corpus.exact_top(t, q)
                recalls.append(len(set(ids) & want) / len(want))
                returned.append(len(ids))
                ms.append(took)
            per[method] = {
                "recall_at_10": round(float(np.mean(recalls)), 4),
                "recall_min": round(float(min(recalls)), 2),
                "rows_returned": round(float(np.mean(returned)), 2),
                **latency_summary(ms),
            }
        out[cls] = per
        print(
            f"{cls:>6} ({per['rows_per_tenant']} rows/tenant): "
            + ", ".join(
                f"{m} r@10 {per[m]['recall_at_10']:.3f} p95 {per[m]['p95_ms']:.1f} ms"
                for m in methods
            ),
            flush=True,
        )
    return out


async def bench(rows: int, queries: int, seed: int, name: str) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    engine = create_engine(owner_url(), poolclass=sa_pool.NullPool)
    ddl = drop_index(engine)
    started = time.perf_counter()
    corpus = build_corpus(engine, rows, rng)
    load_s = time.perf_counter() - started
    index = build_index(engine, ddl, rows)
    print(
        f"{corpus.rows} rows in {sum(len(t) for t in corpus.classes.values())} "
        f"tenants loaded in {load_s:.1f} s; HNSW built in {index['build_s']} s "
        f"({index['index_mb']} MB)",
        flush=True,
    )
    cold = await cold_scope_sizes(corpus)
    asked = make_queries(corpus, queries, rng)
    # The shared graph first, as every memory layer has it (the naive query and
    # the iterative scan); then the tenants' own indexes, and what a turn runs.
    await warm_up(corpus, SHARED_METHODS)
    results = await measure(corpus, asked, SHARED_METHODS)
    own = ensure_tenant_indexes()
    print(
        f"own indexes: {len(own.created)} tenants in {own.build_s} s "
        f"({own.index_mb} MB)",
        flush=True,
    )
    await warm_up(corpus, TURN_METHODS)
    await warm_strategies(corpus, asked)
    for cls, per in (await measure(corpus, asked, TURN_METHODS)).items():
        results[cls].update(per)
    with engine.connect() as conn:
        shared_buffers = str(conn.execute(text("SHOW shared_buffers")).scalar_one())
    engine.dispose()
    targets = {}
    for cls, per in results.items():
        targets[f"{name}_recall_{cls}"] = target(
            per["auto"]["recall_at_10"], 0.99, at_most=False
        )
        targets[f"{name}_p95_ms_{cls}"] = target(per["auto"]["p95_ms"], 10.0)
    return {
        "bench": name,
        "machine": machine(),
        "params": {
            "rows": corpus.rows,
            "tenants": sum(len(t) for t in corpus.classes.values()),
            "queries_per_class": queries,
            "k": K,
            "exact_scan_max_rows": retrieval.EXACT_SCAN_MAX_ROWS,
            "hnsw_ef_search": retrieval.HNSW_EF_SEARCH,
            "tenant_hnsw_ef_search": retrieval.TENANT_HNSW_EF_SEARCH,
            "tenant_index_options": BUILD_OPTIONS,
            "exact_always_rows": retrieval.EXACT_ALWAYS_ROWS,
            "shared_buffers": shared_buffers,
            "command": f"python -m bench.retrieval --rows {rows} --name {name}",
        },
        "load_s": round(load_s, 1),
        "index": index,
        "tenant_indexes": {
            "min_rows": get_settings().tenant_vector_index_min_rows,
            "tenants": len(own.created),
            "build_s": own.build_s,
            "index_mb": own.index_mb,
        },
        "scope_size_cold": cold,
        "classes": results,
        "targets": targets,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=40, help="per size class")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--name", default="retrieval", help="bench/results/<name>.json")
    args = parser.parse_args()
    # sqlmodel nags about session.execute on text statements: not for a bench log.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    stop_on_sigterm()
    with throwaway_stack("sb-bench-retrieval-"):
        result = run_async(lambda: bench(args.rows, args.queries, args.seed, args.name))
    path = write_result(args.name, result)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
