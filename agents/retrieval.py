"""Scoped hybrid retrieval over memories: vector + full text, fused with RRF.

Correctness under the tenant filter is the point of this module. pgvector applies
the WHERE clause *after* the HNSW index scan, so the naive
`WHERE tenant_id = X ORDER BY embedding <=> q LIMIT k` returns too few rows (or the
wrong ones) once a tenant is a small slice of the table. Two strategies:

- small scopes (the common case: a few hundred memories per user): an exact scan.
  It orders by `(embedding <=> q) + 0`, an expression no index can produce, so the
  plan is exact whatever the parameter values and whether or not the statement was
  prepared with a generic plan (the psycopg prepared-statement trap: after 5
  executions PostgreSQL may switch to a generic plan in which a bind-parameter
  tenant filter no longer steers the planner away from HNSW). The scope's rows come
  from the btree on tenant_id; a MATERIALIZED CTE did the same job before, at 2-3x
  the cost (it copies every 1.5 kB vector into a tuplestore).
- large scopes: the HNSW index with `hnsw.iterative_scan = relaxed_order`, which
  keeps scanning the graph until enough rows pass the filter, then an outer ORDER BY
  restores exact order among the candidates.
- a tenant with its own HNSW index (app/core/tenant_vector_index.py, built for
  tenants with many memories): the same iterative scan on that graph of the
  tenant's rows only. The tenant predicate is a literal there, so the planner can
  match the partial index; recall and latency no longer depend on how big the
  other tenants are.

The mode is chosen from the scope's size: a count bounded at EXACT_SCAN_MAX_ROWS + 1
(so it never reads a large tenant's every row), remembered per process for
SCOPE_SIZE_TTL_S. A size can only be stale towards the wrong strategy, never the
wrong rows: both strategies apply the same scope predicate. Tests can force either
mode.
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import text as sql
from sqlmodel.ext.asyncio.session import AsyncSession

from agents.cues import without_courtesies
from app.core.tenant_vector_index import index_name
from app.domain.models import EMBEDDING_DIM

# Above this many embedded memories in a scope, use the iterative HNSW scan. An
# exact scan of 20k 384-d vectors costs ~10-20 ms; beyond that HNSW wins.
EXACT_SCAN_MAX_ROWS = 20_000
# With the iterative scan, ef_search is the first batch, not a cap: 40 and 100 gave
# the same recall@10 (1.000) for a 10% scope, 200 cost a third more time.
HNSW_EF_SEARCH = 100
SCOPE_SIZE_TTL_S = 300.0
SCOPE_SIZE_CACHE_MAX = 10_000
# A scope this small is scanned exactly even when its tenant has its own index.
EXACT_ALWAYS_ROWS = 2_000
# On a tenant's own graph beyond EXACT_SCAN_MAX_ROWS (built with ef_construction
# 128, app/core/tenant_vector_index.py): at 1M rows, 100 left one query in 40 of a
# 100k-row tenant in the wrong cluster (recall@10 0.975, worst query 0); 200 costs
# ~1 ms more. A smaller own graph keeps HNSW_EF_SEARCH: recall 1.000 on 10k rows,
# while 200 made the search visit most of such a graph (p95 6 ms -> 11 ms).
TENANT_HNSW_EF_SEARCH = 200
HNSW_OVERFETCH = 4  # the iterative scan fetches n * this, then keeps the n nearest
RRF_K = 60  # the constant from the RRF paper; damps the weight of the top ranks
CANDIDATES_PER_LIST = 4  # fetch k * this from each ranker before fusing

Mode = Literal["auto", "exact", "hnsw", "tenant_hnsw"]


class ScopeError(ValueError):
    """Retrieval was called without a tenant and a user: refuse, never widen."""


@dataclass(frozen=True)
class RetrievalScope:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    team_ids: tuple[uuid.UUID, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.tenant_id, uuid.UUID) or not isinstance(
            self.user_id, uuid.UUID
        ):
            raise ScopeError("retrieval needs a tenant and a user")
        if not self.role:
            raise ScopeError("retrieval needs the user's role")

    @property
    def visible_team_ids(self) -> list[uuid.UUID]:
        # Residents never see team memories, even if someone put them on a team.
        return [] if self.role == "resident" else list(self.team_ids)


@dataclass(frozen=True)
class RetrievedMemory:
    id: uuid.UUID
    text: str
    scope: str
    score: float


# The scope predicate, shared by every query. `:team_ids` is a uuid[]; an empty
# array simply matches no team memory.
_SCOPE_SQL = """
    m.tenant_id = :tenant_id
    AND (
        m.scope = 'tenant'
        OR (m.scope = 'team' AND m.team_id = ANY(CAST(:team_ids AS uuid[])))
        OR (m.scope = 'user' AND m.user_id = :user_id)
    )
"""

_COUNT_SQL = sql(f"""
    SELECT count(*) FROM (
        SELECT 1 FROM memories m
        WHERE {_SCOPE_SQL} AND m.embedding IS NOT NULL
        LIMIT :cap
    ) scoped
""")

# `+ 0`: an ORDER BY that no index matches, so never the HNSW index (see above).
_EXACT_SQL = sql(f"""
    SELECT m.id, m.embedding <=> CAST(:q AS vector) AS distance
    FROM memories m
    WHERE {_SCOPE_SQL} AND m.embedding IS NOT NULL
    ORDER BY (m.embedding <=> CAST(:q AS vector)) + 0, m.id
    LIMIT :n
""")

# The CTE over-fetches: with relaxed_order the index hands back rows only roughly
# by distance, so the first n that pass the filter are not quite the n nearest
# (recall@10 0.95, worst query 0.8, for a 1.6% scope; see tests/retrieval). The
# outer sort restores exact order; it is on `distance + 0` and behind MATERIALIZED
# because the planner would otherwise trust the index's (relaxed) order and drop
# the sort (pgvector's README does the same).
_HNSW_SQL = sql(f"""
    WITH candidates AS MATERIALIZED (
        SELECT m.id, m.embedding <=> CAST(:q AS vector) AS distance
        FROM memories m
        WHERE {_SCOPE_SQL} AND m.embedding IS NOT NULL
        ORDER BY m.embedding <=> CAST(:q AS vector)
        LIMIT :fetch
    )
    SELECT id, distance FROM candidates ORDER BY distance + 0, id LIMIT :n
""")


_HNSW_SETTINGS_SQL = sql(
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    "set_config('hnsw.ef_search', :ef, true)"
)


@functools.lru_cache(maxsize=256)
def _tenant_hnsw_sql(tenant_id: uuid.UUID) -> Any:
    """_HNSW_SQL with the tenant as a literal (a UUID object, so no injection):
    a bind parameter would not let the planner prove the partial index applies."""
    own = f"m.tenant_id = '{uuid.UUID(str(tenant_id))}'::uuid AND"
    return sql(_HNSW_SQL.text.replace("WHERE ", f"WHERE {own} ", 1))


# created_at is returned for the fused statement's ranking (below).
_TEXT_SQL = sql(f"""
    SELECT m.id, ts_rank_cd(m.tsv, query) AS rank, m.created_at
    FROM memories m, to_tsquery('english', :tsq) query
    WHERE {_SCOPE_SQL} AND m.tsv @@ query
    ORDER BY rank DESC, m.created_at DESC, m.id
    LIMIT :n
""")

# A turn's retrieval in one statement: the vector and text candidates as above,
# each numbered in its own order, fused by reciprocal rank fusion (the same
# 1 / (RRF_K + rank) summed per memory as `rrf`), and the k winners' texts: one
# round trip instead of three (the two it saves cost about 0.7 ms of a turn's
# event-loop CPU). Every ordering ends with the id, so equal distances, ranks or
# scores (a memory stored twice) come back in one order; a uuid sorts as its text
# does, whatever the collation, so ties break as `sorted(..., key=str)` would.
_VEC_RANKS = """
    SELECT id, 1.0::float8 / (:rrf_k + row_number() OVER (ORDER BY distance, id))
    FROM vec"""
_TXT_RANKS = """
    SELECT id, 1.0::float8 / (:rrf_k + row_number() OVER (
        ORDER BY rank DESC, created_at DESC, id))
    FROM txt"""
_FUSED_TAIL = """
    fused AS (
        SELECT id, sum(score) AS score FROM ranked
        GROUP BY id ORDER BY score DESC, id LIMIT :k
    )
    SELECT m.id, m.text, m.scope, fused.score
    FROM fused JOIN memories m ON m.tenant_id = :tenant_id AND m.id = fused.id
    ORDER BY fused.score DESC, fused.id
"""


@functools.lru_cache(maxsize=512)
def _fused_sql(vector_sql: str | None, with_text: bool) -> Any:
    """The fused statement over the given vector query (its text: exact, shared
    or a tenant's own graph) and/or the text query."""
    ctes, ranks = [], []
    if vector_sql is not None:
        ctes.append(f"vec AS ({vector_sql})")
        ranks.append(_VEC_RANKS)
    if with_text:
        ctes.append(f"txt AS ({_TEXT_SQL.text})")
        ranks.append(_TXT_RANKS)
    union = "\n    UNION ALL".join(ranks)
    return sql(
        f"WITH {', '.join(ctes)}, ranked (id, score) AS ({union}), {_FUSED_TAIL}"
    )


# Letters and digits of any script: "café" and "Müller" stay whole words. None of
# them is tsquery syntax (operators, quotes, backslash and spaces are not \w).
_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 32
MAX_WORD_CHARS = 64  # longer "words" are pasted noise (hashes, base64), not terms


def search_text(message: str) -> str:
    """What a message is about, as a search: without the greeting and thanks
    around it ("Hi, ... Thanks!" says nothing about any memory). Both the query
    embedding and the text query use it, and the built-in model reads the same
    text, so one vector serves retrieval and its classifier."""
    return without_courtesies(message)


def text_query(query_text: str) -> str | None:
    """An OR query over the message's words (plain text in, safe tsquery out).

    websearch_to_tsquery ANDs every word, so "when does the delivery usually come"
    would need all of them in one memory; OR plus ts_rank_cd ranking is what a
    question needs. Only letter/digit runs reach to_tsquery, so no syntax
    injection; to_tsquery drops English stop words itself.
    """
    words = [w for w in _WORD.findall(query_text.lower()) if len(w) <= MAX_WORD_CHARS]
    words = list(dict.fromkeys(words))[:MAX_QUERY_WORDS]
    return " | ".join(words) if words else None


# One %-format of the whole vector: a generator formatting each float was 4% of a
# worker's event-loop CPU under load (py-spy), this is 2.6x faster, same text.
_VECTOR_FORMAT = "[" + ",".join(["%.7g"] * EMBEDDING_DIM) + "]"


def vector_literal(embedding: Sequence[float]) -> str:
    if len(embedding) != EMBEDDING_DIM:
        raise ValueError(f"expected {EMBEDDING_DIM} dimensions, got {len(embedding)}")
    return _VECTOR_FORMAT % tuple(embedding)


def _params(scope: RetrievalScope) -> dict[str, Any]:
    return {
        "tenant_id": scope.tenant_id,
        "user_id": scope.user_id,
        "team_ids": [str(t) for t in scope.visible_team_ids],
    }


# (tenant, user, visible teams) -> (embedded memories in the scope, capped; expiry).
# Per process: a turn then spends no round trip on choosing the strategy.
_scope_sizes: dict[
    tuple[uuid.UUID, uuid.UUID, tuple[uuid.UUID, ...]], tuple[int, float]
]
_scope_sizes = {}
# tenant -> (has a valid index of its own; expiry).
_own_indexes: dict[uuid.UUID, tuple[bool, float]] = {}

_OWN_INDEX_SQL = sql("""
    SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
    WHERE c.relname = :name
""")


def forget_scope_sizes() -> None:
    """Forget what was counted and looked up (tests; a new index is seen at once)."""
    _scope_sizes.clear()
    _own_indexes.clear()


async def has_own_index(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant's own HNSW index exists and is valid (remembered for
    SCOPE_SIZE_TTL_S: indexes are built by a maintenance run, not per turn)."""
    now = time.monotonic()
    cached = _own_indexes.get(tenant_id)
    if cached is not None and cached[1] > now:
        return cached[0]
    valid = (
        await session.execute(_OWN_INDEX_SQL, {"name": index_name(tenant_id)})
    ).scalar_one_or_none()
    if len(_own_indexes) >= SCOPE_SIZE_CACHE_MAX:
        _own_indexes.clear()
    _own_indexes[tenant_id] = (bool(valid), now + SCOPE_SIZE_TTL_S)
    return bool(valid)


async def choose_mode(session: AsyncSession, scope: RetrievalScope) -> Mode:
    """Exact for small scopes; the tenant's own graph when it has one; else exact
    up to EXACT_SCAN_MAX_ROWS and the shared graph beyond."""
    size = await scope_size(session, scope)
    if size <= EXACT_ALWAYS_ROWS:
        return "exact"
    if await has_own_index(session, scope.tenant_id):
        return "tenant_hnsw"
    return "exact" if size <= EXACT_SCAN_MAX_ROWS else "hnsw"


async def scope_size(session: AsyncSession, scope: RetrievalScope) -> int:
    """Embedded memories in the scope, counted up to EXACT_SCAN_MAX_ROWS + 1."""
    key = (scope.tenant_id, scope.user_id, tuple(sorted(scope.visible_team_ids)))
    now = time.monotonic()
    cached = _scope_sizes.get(key)
    if cached is not None and cached[1] > now:
        return cached[0]
    params = {**_params(scope), "cap": EXACT_SCAN_MAX_ROWS + 1}
    count = int((await session.execute(_COUNT_SQL, params)).scalar_one())
    if len(_scope_sizes) >= SCOPE_SIZE_CACHE_MAX:
        _scope_sizes.clear()  # rare; the next turns count again
    _scope_sizes[key] = (count, now + SCOPE_SIZE_TTL_S)
    return count


async def _vector_query(
    session: AsyncSession, scope: RetrievalScope, n: int, mode: Mode
) -> tuple[Any, dict[str, Any]]:
    """The vector query for the scope's strategy and its extra parameters; for the
    HNSW strategies, the session's search settings are set first."""
    if mode == "auto":
        mode = await choose_mode(session, scope)
    if mode == "exact":
        return _EXACT_SQL, {}
    # Transaction-local: the next transaction on this pooled connection gets the
    # defaults back. One statement, one round trip.
    fetch = n * HNSW_OVERFETCH
    own = mode == "tenant_hnsw"
    ef = HNSW_EF_SEARCH
    if own and await scope_size(session, scope) > EXACT_SCAN_MAX_ROWS:
        ef = TENANT_HNSW_EF_SEARCH  # (remembered: no round trip per turn)
    await session.execute(
        _HNSW_SETTINGS_SQL,
        {"ef": str(min(1000, max(ef, fetch)))},  # 1000: pgvector's maximum
    )
    statement = _tenant_hnsw_sql(scope.tenant_id) if own else _HNSW_SQL
    return statement, {"fetch": fetch}


async def vector_candidates(
    session: AsyncSession,
    scope: RetrievalScope,
    embedding: list[float],
    n: int,
    mode: Mode = "auto",
) -> list[tuple[uuid.UUID, float]]:
    """The n nearest memories inside the scope (id, cosine distance)."""
    statement, extra = await _vector_query(session, scope, n, mode)
    params = {**_params(scope), "q": vector_literal(embedding), "n": n, **extra}
    rows = (await session.execute(statement, params)).all()
    return [(r[0], float(r[1])) for r in rows]


async def text_candidates(
    session: AsyncSession, scope: RetrievalScope, query_text: str, n: int
) -> list[tuple[uuid.UUID, float]]:
    tsq = text_query(query_text)
    if tsq is None:
        return []
    rows = (
        await session.execute(_TEXT_SQL, {**_params(scope), "tsq": tsq, "n": n})
    ).all()
    return [(r[0], float(r[1])) for r in rows]


def rrf(*rankings: list[uuid.UUID], k: int = RRF_K) -> dict[uuid.UUID, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the lists."""
    scores: dict[uuid.UUID, float] = {}
    for ranking in rankings:
        for rank, mid in enumerate(ranking, start=1):
            scores[mid] = scores.get(mid, 0.0) + 1.0 / (k + rank)
    return scores


async def retrieve(
    session: AsyncSession,
    scope: RetrievalScope,
    query_text: str,
    query_embedding: list[float] | None,
    k: int = 8,
    *,
    mode: Mode = "auto",
) -> list[RetrievedMemory]:
    """The k memories most relevant to the query that this user may see."""
    if not isinstance(scope, RetrievalScope):
        raise ScopeError("retrieval needs a RetrievalScope")
    n = max(k * CANDIDATES_PER_LIST, k)
    tsq = text_query(query_text)
    params: dict[str, Any] = {**_params(scope), "n": n, "k": k, "rrf_k": RRF_K}
    vector_sql = None
    if query_embedding is not None:
        statement, extra = await _vector_query(session, scope, n, mode)
        vector_sql = statement.text
        params.update(extra, q=vector_literal(query_embedding))
    if tsq is not None:
        params["tsq"] = tsq
    elif vector_sql is None:
        return []
    fused = _fused_sql(vector_sql, tsq is not None)
    rows = (await session.execute(fused, params)).all()
    return [RetrievedMemory(r[0], r[1], r[2], float(r[3])) for r in rows]
