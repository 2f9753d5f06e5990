"""Hybrid retrieval: full text + MiniLM vectors fused with reciprocal rank fusion.

The memories live in a tenant of their own so that demo memories cannot move the
ranks. Embeddings are real all-MiniLM-L6-v2 vectors (a few dozen sentences).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from agents.embeddings import embed_texts
from agents.retrieval import (
    CANDIDATES_PER_LIST,
    MAX_QUERY_WORDS,
    Mode,
    RetrievalScope,
    retrieve,
    rrf,
    text_candidates,
    text_query,
    vector_candidates,
)
from app.core.db import tenant_session
from app.services.memories import remember
from tests.retrieval.conftest import create_tenants

SOURCE = "hybrid-test"
RARE = "Kowalczyk"
TARGET = f"Parking bay 7 is rented to {RARE} until June."
HEATING = [
    "Heating breakdowns: call the boiler engineer on 0161 555 0101, day or night.",
    "If a flat has no warmth, the on-call technician comes within four hours.",
    "The furnace service agreement covers emergency call-outs in winter.",
    "Omar handles radiator complaints from residents and books the engineer.",
    "Cold apartments in January are usually a stuck valve; Omar can bleed it.",
    "Central heating repairs are booked through the maintenance team.",
    "Boiler pressure below 1 bar means the system needs topping up.",
    "A faulty radiator thermostat is replaced by the plumber, not by residents.",
    "The heating engineer's phone number is on the boiler room door.",
]
OTHER = [
    "The recycling bins are emptied on Tuesday mornings.",
    "The elevator inspection happens on the 15th of every month.",
    "Müller's café on the corner delivers the staff breakfast at 8.",
]
# Its one rare word is the only link to TARGET; its meaning is all heating.
QUERY = f"Who is our contact at {RARE} for broken heaters?"


async def _embed(texts: list[str]) -> list[list[float]]:
    """Through litellm and our provider, as production does."""
    return await embed_texts(texts)


@pytest.fixture(scope="module")
async def corpus(
    owner_engine: Any, stack: None
) -> AsyncIterator[tuple[RetrievalScope, dict[str, uuid.UUID]]]:
    [tenant] = create_tenants(owner_engine, 1, "hybrid")
    texts = [TARGET, *HEATING, *OTHER]
    ids: dict[str, uuid.UUID] = {}
    try:
        vectors = await _embed(texts)
        async with tenant_session(tenant) as s:
            for n, (body, vector) in enumerate(zip(texts, vectors, strict=True)):
                ids[body] = await remember(
                    s, tenant, "tenant", body, SOURCE, str(n), embedding=vector
                )
        yield RetrievalScope(tenant, uuid.uuid4(), "manager"), ids
    finally:
        with owner_engine.begin() as conn:
            conn.execute(
                text("DELETE FROM memories WHERE source_type = :s"), {"s": SOURCE}
            )
            conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": tenant})


async def test_hybrid_finds_exact_word_weak_in_vector_space(
    corpus: tuple[RetrievalScope, dict[str, uuid.UUID]],
) -> None:
    scope, ids = corpus
    [query_vector] = await _embed([QUERY])
    async with tenant_session(scope.tenant_id) as s:
        by_vector = [
            i for i, _ in await vector_candidates(s, scope, query_vector, len(ids))
        ]
        by_text = [i for i, _ in await text_candidates(s, scope, QUERY, len(ids))]
        hybrid = await retrieve(s, scope, QUERY, query_vector, k=3)
        vector_only = await retrieve(s, scope, "", query_vector, k=3)
    target = ids[TARGET]
    # Far down the vector ranking (heating memories mean what the query means)...
    assert by_vector.index(target) >= 3  # 7th of 13 with the pinned MiniLM
    assert target not in {m.id for m in vector_only}
    # ...first in the text ranking, so fusion brings it into the top 3.
    assert by_text[0] == target
    assert target in {m.id for m in hybrid}
    assert {m.scope for m in hybrid} == {"tenant"}
    # The other two places go to what the question is about.
    assert {m.text for m in hybrid if m.id != target} <= set(HEATING)


async def test_hybrid_semantic_match_without_shared_words(
    corpus: tuple[RetrievalScope, dict[str, uuid.UUID]],
) -> None:
    scope, _ = corpus
    query = "My apartment is freezing, who repairs that?"
    [query_vector] = await _embed([query])
    async with tenant_session(scope.tenant_id) as s:
        found = await retrieve(s, scope, query, query_vector, k=3)
    assert len(found) == 3
    assert all(m.text in HEATING for m in found), [m.text for m in found]


async def test_text_candidates_non_ascii_words(
    corpus: tuple[RetrievalScope, dict[str, uuid.UUID]],
) -> None:
    scope, ids = corpus
    async with tenant_session(scope.tenant_id) as s:
        for query in ("Müller", "when does the café deliver?"):
            found = [i for i, _ in await text_candidates(s, scope, query, 5)]
            assert found[:1] == [ids[OTHER[2]]], query


async def _fused_in_python(
    s: Any,
    scope: RetrievalScope,
    query: str,
    embedding: list[float] | None,
    mode: Mode,
    k: int,
) -> list[tuple[uuid.UUID, float]]:
    """The reference: RRF in Python over the two candidate lists, each fetched on
    its own (what `retrieve` did before it fused in SQL)."""
    n = max(k * CANDIDATES_PER_LIST, k)
    by_vector = (
        []
        if embedding is None
        else [i for i, _ in await vector_candidates(s, scope, embedding, n, mode)]
    )
    by_text = [i for i, _ in await text_candidates(s, scope, query, n)]
    fused = rrf(by_vector, by_text).items()
    return sorted(fused, key=lambda kv: (-kv[1], str(kv[0])))[:k]


async def test_one_statement_ranks_as_rrf_over_the_two_lists(
    corpus: tuple[RetrievalScope, dict[str, uuid.UUID]],
) -> None:
    """`retrieve` fuses in SQL, against the reference: for queries of every kind,
    both vector strategies, with and without a vector, and with a memory stored
    twice (equal distance and rank)."""
    scope, _ = corpus
    twice = HEATING[0]
    [twice_vector] = await _embed([twice])
    async with tenant_session(scope.tenant_id) as s:
        stored_twice = await remember(
            s, scope.tenant_id, "tenant", twice, SOURCE, "twice", embedding=twice_vector
        )
    queries = [QUERY, twice, "freezing flat", "Müller café", "the a an of", "zzz"]
    vectors = await _embed(queries)
    strategies: list[tuple[Mode, bool]] = [
        ("exact", True),
        ("hnsw", True),
        ("exact", False),
    ]
    cases = [
        (query, vector if with_vector else None, mode, k)
        for query, vector in zip(queries, vectors, strict=True)
        for mode, with_vector in strategies
        for k in (1, 3, 8)
    ]
    compared = 0
    try:
        async with tenant_session(scope.tenant_id) as s:
            for query, embedding, mode, k in cases:
                expected = await _fused_in_python(s, scope, query, embedding, mode, k)
                found = await retrieve(s, scope, query, embedding, k=k, mode=mode)
                where = (query, mode, embedding is not None, k)
                assert [m.id for m in found] == [i for i, _ in expected], where
                assert [m.score for m in found] == pytest.approx(
                    [score for _, score in expected]
                ), where
                compared += bool(found)
    finally:
        async with tenant_session(scope.tenant_id) as s:
            await s.execute(
                text("DELETE FROM memories WHERE id = :i"), {"i": stored_twice}
            )
    assert compared >= 40  # most of the 54 cases found something to compare


def test_rrf_sums_reciprocal_ranks() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    scores = rrf([a, b], [b, c], k=60)
    assert scores[a] == pytest.approx(1 / 61)
    assert scores[b] == pytest.approx(1 / 62 + 1 / 61)
    assert scores[c] == pytest.approx(1 / 62)
    assert max(scores, key=lambda i: scores[i]) == b
    assert rrf() == {}


HOSTILE = [
    "'; DROP TABLE memories; --",
    "fridge & !temperature | (log",
    "fridge:* & boiler:A",
    "fridge <-> boiler <2> valve",
    "it's O'Brien's \"quoted\" \\ back\\slash",
    "!!!&&&|||:::***((()))",
    "((((((((((((((((((((((((((((((((fridge",
    "a" * 5000 + " boiler",
    "%s %(x)s $1 :tenant_id {0}",
    "\x00\x01\x02 nul bytes",
    "emoji 🔥 and RTL \u202e text",
    "the a an of",  # stop words only: an empty query, not an error
    "",
    "   \t\n  ",
]
SAFE = re.compile(r"^[^\W_]+( \| [^\W_]+)*$")


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_text_query_hostile_input_is_safe(
    corpus: tuple[RetrievalScope, dict[str, uuid.UUID]], hostile: str
) -> None:
    tsq = text_query(hostile)
    if tsq is not None:
        assert SAFE.match(tsq), tsq
        assert len(tsq.split(" | ")) <= MAX_QUERY_WORDS
    scope, _ = corpus
    async with tenant_session(scope.tenant_id) as s:
        # Neither raises: the statement is valid for every input.
        await text_candidates(s, scope, hostile, 5)
        await retrieve(s, scope, hostile, None, k=3)
        if tsq is not None:
            await s.execute(text("SELECT to_tsquery('english', :q)"), {"q": tsq})


def test_text_query_keeps_words_or_nothing() -> None:
    assert text_query("Fridge & !boiler:*") == "fridge | boiler"
    assert text_query("Müller's café") == "müller | s | café"
    assert text_query("boiler BOILER boiler") == "boiler"
    assert text_query("!!! ''' ***") is None
    assert text_query("x" * 65) is None  # pasted hashes are not search terms
    many = " ".join(f"w{i}" for i in range(100))
    assert text_query(many) == " | ".join(f"w{i}" for i in range(MAX_QUERY_WORDS))
