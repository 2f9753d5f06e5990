"""A tenant's own HNSW index once it holds many memories (owner-run maintenance).

One HNSW graph over every tenant's memories serves a large tenant poorly: pgvector
filters after the graph walk, so a tenant that is 10% of a million rows loses
recall (0.88 in bench/results/retrieval_1m.json) and the iterative scan walks far.
An exact scan of 100k vectors is exact but costs ~200 ms. A partial index
`... WHERE tenant_id = '<id>'` is a graph of that tenant's rows only: pgvector's
README recommends it when few values are filtered on, and here only a few tenants
ever grow past TENANT_VECTOR_INDEX_MIN_ROWS.

Indexes are DDL, so the owner role builds them (the app role owns nothing):
`python -m app.cli vector-indexes`, run by `make run` after the demo data and meant
for a cron next to backups. CREATE INDEX CONCURRENTLY never blocks the tenant's
writes; a build that failed leaves an INVALID index, which the next run drops and
builds again. agents/retrieval.py finds a tenant's index by its name and uses it
only once it is valid.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import create_engine, pool, text

from app.core.db import owner_url
from app.core.settings import Settings, get_settings

log = logging.getLogger(__name__)
INDEX_PREFIX = "ix_memories_embedding_t_"
# Built while the table takes writes; the graph must fit in maintenance_work_mem
# (about 2.3 kB a row at 384 dimensions) or the build is many times slower.
BUILD_WORK_MEM_MB = 1024
# pgvector's default ef_construction (64) left a 100k-row tenant of clustered
# memories with queries whose search stayed in the wrong cluster (recall@10 0.97,
# worst query 0 at ef_search 200); 128 gave 1.000 (worst 1.0) there, for 1.5x the
# build time. An index built with other options is rebuilt by the next run.
BUILD_OPTIONS = {"m": 16, "ef_construction": 128}
_WITH = ", ".join(f"{k} = {v}" for k, v in BUILD_OPTIONS.items())
# The same options as PostgreSQL lists them in pg_class.reloptions.
BUILD_RELOPTIONS = frozenset(f"{k}={v}" for k, v in BUILD_OPTIONS.items())
ADVISORY_LOCK = 0x5B_7E_C1  # any constant, unique to this job


def index_name(tenant_id: uuid.UUID) -> str:
    """`ix_memories_embedding_t_<32 hex>`: 56 characters, under PostgreSQL's 63."""
    return f"{INDEX_PREFIX}{uuid.UUID(str(tenant_id)).hex}"


def tenant_of(name: str) -> uuid.UUID | None:
    if not name.startswith(INDEX_PREFIX):
        return None
    try:
        return uuid.UUID(hex=name[len(INDEX_PREFIX) :])
    except ValueError:
        return None


def _built_as_now(reloptions: list[str] | None) -> bool:
    """Whether an index's storage options are BUILD_OPTIONS."""
    return set(reloptions or ()) == BUILD_RELOPTIONS


@dataclass
class IndexReport:
    created: list[uuid.UUID] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    kept: int = 0
    build_s: float = 0.0
    index_mb: float = 0.0


def ensure_tenant_indexes(
    min_rows: int | None = None, settings: Settings | None = None
) -> IndexReport:
    """Build the missing indexes of tenants with at least `min_rows` embedded
    memories; drop invalid ones (a failed build), those built with other options
    (rebuilt) and those of deleted tenants."""
    s = settings or get_settings()
    threshold = s.tenant_vector_index_min_rows if min_rows is None else min_rows
    report = IndexReport()
    engine = create_engine(
        owner_url(s), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            # One run at a time: a concurrent build looks INVALID until it ends,
            # and a second run would drop it.
            if not conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK}
            ).scalar_one():
                log.info("tenant vector indexes: another run holds the lock")
                return report
            existing = {
                str(name): bool(valid) and _built_as_now(options)
                for name, valid, options in conn.execute(
                    text(
                        "SELECT c.relname, i.indisvalid, c.reloptions FROM pg_class c "
                        "JOIN pg_index i ON i.indexrelid = c.oid "
                        "WHERE starts_with(c.relname, :p)"
                    ),
                    {"p": INDEX_PREFIX},
                )
            }
            tenants = {
                row[0]
                for row in conn.execute(
                    text(
                        "SELECT m.tenant_id FROM memories m "
                        "JOIN tenants t ON t.id = m.tenant_id "
                        "WHERE m.embedding IS NOT NULL "
                        "GROUP BY m.tenant_id HAVING count(*) >= :n"
                    ),
                    {"n": threshold},
                )
            }
            alive = {row[0] for row in conn.execute(text("SELECT id FROM tenants"))}
            for name, valid in existing.items():
                tid = tenant_of(name)
                if valid and tid in alive:
                    continue
                # A quoted name built by index_name, never user text.
                conn.execute(text(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))
                report.dropped.append(name)
            conn.execute(text(f"SET maintenance_work_mem = '{BUILD_WORK_MEM_MB}MB'"))
            for tid in sorted(tenants, key=str):
                name = index_name(tid)
                if existing.get(name) and name not in report.dropped:
                    report.kept += 1
                    continue
                started = time.perf_counter()
                # The predicate is a literal (a UUID from the database, re-parsed):
                # the planner matches a query's `tenant_id = '<id>'` against it.
                conn.execute(
                    text(
                        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON memories '
                        f"USING hnsw (embedding vector_cosine_ops) WITH ({_WITH}) "
                        f"WHERE tenant_id = '{uuid.UUID(str(tid))}'::uuid"
                    )
                )
                report.build_s += time.perf_counter() - started
                report.created.append(tid)
                log.info("tenant vector index built", extra={"tenant_id": str(tid)})
            size = conn.execute(
                text(
                    "SELECT coalesce(sum(pg_relation_size(c.oid)), 0) FROM pg_class c "
                    "WHERE starts_with(c.relname, :p) AND c.relkind = 'i'"
                ),
                {"p": INDEX_PREFIX},
            ).scalar_one()
            report.index_mb = round(int(size) / 1024 / 1024, 1)
    finally:
        engine.dispose()
    report.build_s = round(report.build_s, 2)
    return report
