"""Who may retrieve what: tenant memories, own team's, own; nothing else, ever.

Every memory below matches the query both ways (the same word, nearly the same
vector), so the only thing keeping a memory out of the results is the scope.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from agents.retrieval import (
    RetrievalScope,
    RetrievedMemory,
    ScopeError,
    retrieve,
    text_candidates,
    vector_candidates,
)
from app.core.db import owner_url, tenant_session
from app.services.memories import remember
from tests.conftest import Demo
from tests.retrieval.conftest import DIM, unit_rows

pytestmark = pytest.mark.isolation

SOURCE = "scope-test"
WORD = "quokka"  # in every memory and in the query
QUERY = f"what do we know about the {WORD}?"

# (label, tenant slug, scope, team slug, user handle)
MEMORIES = [
    ("mc-tenant", "maple-court", "tenant", None, None),
    ("mc-maintenance", "maple-court", "team", "maintenance", None),
    ("mc-cleaning", "maple-court", "team", "cleaning", None),
    ("mc-omar", "maple-court", "user", None, "omar"),
    ("mc-grace", "maple-court", "user", None, "grace"),
    ("mc-ben", "maple-court", "user", None, "ben"),
    ("rl-tenant", "riverside-lofts", "tenant", None, None),
    ("rl-maintenance", "riverside-lofts", "team", "maintenance", None),
    ("rl-omar", "riverside-lofts", "user", None, "omar"),
    ("rl-ben", "riverside-lofts", "user", None, "ben"),
]

# (tenant slug, handle, role, teams the caller says the user is on) -> visible
CASES = [
    (
        ("maple-court", "omar", "employee", ("maintenance",)),
        {"mc-tenant", "mc-maintenance", "mc-omar"},
    ),
    (
        ("maple-court", "grace", "employee", ("cleaning",)),
        {"mc-tenant", "mc-cleaning", "mc-grace"},
    ),
    (
        ("maple-court", "dana", "manager", ("management",)),
        {"mc-tenant"},
    ),
    # A resident put on a team still sees no team memory.
    (
        ("maple-court", "ben", "resident", ("maintenance", "cleaning")),
        {"mc-tenant", "mc-ben"},
    ),
    # Same handles, other tenant: nothing of maple-court's.
    (
        ("riverside-lofts", "omar", "employee", ("maintenance",)),
        {"rl-tenant", "rl-maintenance", "rl-omar"},
    ),
    (
        ("riverside-lofts", "ben", "resident", ("maintenance",)),
        {"rl-tenant", "rl-ben"},
    ),
]
CASE_IDS = [f"{c[0][0]}-{c[0][1]}" for c in CASES]


def _near(base: np.ndarray, rng: np.random.Generator) -> list[float]:
    vector = unit_rows((base + rng.normal(0.0, 0.01, DIM)).astype(np.float32)[None])
    return [float(x) for x in vector[0]]


@pytest.fixture(scope="module")
def query_vector() -> np.ndarray:
    rng = np.random.default_rng(7)
    vector: np.ndarray = unit_rows(rng.standard_normal((1, DIM)).astype(np.float32))[0]
    return vector


@pytest.fixture(scope="module")
async def memories(
    demo: Demo, owner_engine: Any, query_vector: np.ndarray
) -> AsyncIterator[dict[str, uuid.UUID]]:
    """label -> memory id, written through remember() as the application."""
    rng = np.random.default_rng(11)
    ids: dict[str, uuid.UUID] = {}
    for label, slug, scope, team, handle in MEMORIES:
        tenant_id = demo.tenant(slug).id
        async with tenant_session(tenant_id) as s:
            ids[label] = await remember(
                s,
                tenant_id,
                scope,
                f"Note {label}: the {WORD} lives behind the shed.",
                SOURCE,
                label,
                team_id=demo.team(slug, team).id if team else None,
                user_id=demo.user(slug, handle).id if handle else None,
                embedding=_near(query_vector, rng),
            )
    yield ids
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM memories WHERE source_type = :s"), {"s": SOURCE})


def _scope(
    demo: Demo, slug: str, handle: str, role: str, teams: tuple[str, ...]
) -> RetrievalScope:
    return RetrievalScope(
        demo.tenant(slug).id,
        demo.user(slug, handle).id,
        role,
        tuple(demo.team(slug, t).id for t in teams),
    )


async def _labels(
    found: list[RetrievedMemory], memories: dict[str, uuid.UUID]
) -> set[str]:
    by_id = {v: k for k, v in memories.items()}
    return {by_id[m.id] for m in found if m.id in by_id}


def _assert_allowed(rows: list[Any], scope: RetrievalScope) -> None:
    """Every row returned (ours or the demo's) obeys the rules, not just ours."""
    for tenant_id, kind, team_id, user_id in rows:
        assert tenant_id == scope.tenant_id
        if kind == "team":
            assert team_id in scope.visible_team_ids
        elif kind == "user":
            assert user_id == scope.user_id
        else:
            assert kind == "tenant"


def _describe(
    owner_engine: Any, found: list[RetrievedMemory] | list[uuid.UUID]
) -> list[Any]:
    with owner_engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT tenant_id, scope, team_id, user_id FROM memories "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": [m if isinstance(m, uuid.UUID) else m.id for m in found]},
            ).all()
        )


@pytest.mark.parametrize("mode", ["exact", "hnsw", "auto", "text-only"])
@pytest.mark.parametrize(("who", "visible"), CASES, ids=CASE_IDS)
async def test_retrieve_scope_rules(
    demo: Demo,
    owner_engine: Any,
    memories: dict[str, uuid.UUID],
    query_vector: np.ndarray,
    who: tuple[str, str, str, tuple[str, ...]],
    visible: set[str],
    mode: str,
) -> None:
    scope = _scope(demo, *who)
    embedding = None if mode == "text-only" else [float(x) for x in query_vector]
    async with tenant_session(scope.tenant_id) as s:
        found = await retrieve(
            s,
            scope,
            QUERY,
            embedding,
            k=50,
            mode="auto" if mode == "text-only" else mode,  # type: ignore[arg-type]
        )
    assert await _labels(found, memories) == visible
    _assert_allowed(_describe(owner_engine, found), scope)


@pytest.mark.parametrize(("who", "visible"), CASES, ids=CASE_IDS)
async def test_retrieve_scope_rules_without_rls(
    demo: Demo,
    owner_engine: Any,
    memories: dict[str, uuid.UUID],
    query_vector: np.ndarray,
    who: tuple[str, str, str, tuple[str, ...]],
    visible: set[str],
) -> None:
    """As the superuser owner (RLS does not apply): the query's own predicate must
    keep other tenants out, so one missing policy is not one leak."""
    scope = _scope(demo, *who)
    embedding = [float(x) for x in query_vector]
    engine = create_async_engine(owner_url())
    try:
        async with AsyncSession(engine) as s:
            found = await retrieve(s, scope, QUERY, embedding, k=50)
            # Each ranker on its own too: the final fetch also filters by tenant,
            # which must not be what hides a leak.
            candidates = [
                *await vector_candidates(s, scope, embedding, 200, "exact"),
                *await vector_candidates(s, scope, embedding, 200, "hnsw"),
                *await text_candidates(s, scope, QUERY, 200),
            ]
    finally:
        await engine.dispose()
    assert await _labels(found, memories) == visible
    _assert_allowed(_describe(owner_engine, found), scope)
    ids = {i for i, _ in candidates}
    assert {label for label, i in memories.items() if i in ids} == visible
    _assert_allowed(_describe(owner_engine, list(ids)), scope)


async def test_retrieve_scope_of_another_tenant_finds_nothing(
    demo: Demo, memories: dict[str, uuid.UUID], query_vector: np.ndarray
) -> None:
    """A scope naming riverside-lofts inside a maple-court session: RLS hides
    riverside's rows and the query hides maple-court's."""
    scope = _scope(demo, "riverside-lofts", "omar", "employee", ("maintenance",))
    async with tenant_session(demo.tenant("maple-court").id) as s:
        found = await retrieve(s, scope, QUERY, [float(x) for x in query_vector], k=50)
    assert found == []


def test_scope_needs_tenant_and_user() -> None:
    tenant, user = uuid.uuid4(), uuid.uuid4()
    bad: list[tuple[Any, Any, Any]] = [
        (None, user, "employee"),
        (tenant, None, "employee"),
        (str(tenant), user, "employee"),  # ids, not strings that look like ids
        (tenant, str(user), "employee"),
        (tenant, user, ""),
    ]
    for tenant_id, user_id, role in bad:
        with pytest.raises(ScopeError):
            RetrievalScope(tenant_id, user_id, role)


def test_scope_residents_see_no_teams() -> None:
    team = uuid.uuid4()
    resident = RetrievalScope(uuid.uuid4(), uuid.uuid4(), "resident", (team,))
    employee = RetrievalScope(uuid.uuid4(), uuid.uuid4(), "employee", (team,))
    assert resident.visible_team_ids == []
    assert employee.visible_team_ids == [team]


@pytest.mark.parametrize(
    "not_a_scope",
    [None, {"tenant_id": uuid.uuid4(), "user_id": uuid.uuid4()}, "tenant"],
)
async def test_retrieve_without_scope_raises(
    demo: Demo, not_a_scope: Any, query_vector: np.ndarray
) -> None:
    async with tenant_session(demo.tenant("maple-court").id) as s:
        with pytest.raises(ScopeError):
            await retrieve(s, not_a_scope, QUERY, [float(x) for x in query_vector])


@pytest.fixture(scope="module", autouse=True)
def _no_leftovers(owner_engine: Any) -> Iterator[None]:
    yield
    with owner_engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM memories WHERE source_type = :s"), {"s": SOURCE}
        ).scalar_one()
    assert left == 0
