"""agents.embeddings.embed_texts with a hosted-style model behind a real HTTP API."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from agents.embeddings import BATCH_SIZE, BG_CALL, embed_texts
from app.core.settings import get_settings
from tests.model.conftest import LoopbackLLM, Reply, embedding_body

EMBEDDINGS = "/v1/embeddings"


def vector_for(text: str, dim: int = 384) -> list[float]:
    """A deterministic unit vector per text, so order mix-ups are visible."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    v = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def echo(dim: int, *, reverse: bool = False) -> Callable[[dict[str, Any]], Any]:
    """An embeddings endpoint: one vector per input, in the requested encoding."""

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        inputs = request["input"]
        body = embedding_body(
            [vector_for(t, dim) for t in inputs], request.get("encoding_format")
        )
        if reverse:  # the API promises `index`, not order
            body["data"].reverse()
        return body

    return answer


@pytest.fixture
def hosted_embeddings(
    hosted_settings: LoopbackLLM, monkeypatch: pytest.MonkeyPatch
) -> LoopbackLLM:
    monkeypatch.setenv("EMBEDDING_MODEL", "openai/text-embedding-3-small")
    get_settings.cache_clear()
    return hosted_settings


async def test_embed_texts_hosted_model(hosted_embeddings: LoopbackLLM) -> None:
    texts = ["The fridge stays below 4°C.", "Deliveries come on Thursday."]
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(384)))

    got = await embed_texts(texts)

    [request] = hosted_embeddings.received(EMBEDDINGS)
    assert request.body["model"] == "text-embedding-3-small"
    assert request.body["input"] == texts
    assert request.headers["authorization"] == "Bearer sk-loopback-test"
    assert [len(v) for v in got] == [384, 384]
    for text, have in zip(texts, got, strict=True):
        assert have == pytest.approx(vector_for(text), abs=1e-6)


async def test_embed_texts_hosted_batches_keep_order(
    hosted_embeddings: LoopbackLLM,
) -> None:
    texts = [f"memory number {i}" for i in range(BATCH_SIZE + 5)]
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(384, reverse=True)))

    got = await embed_texts(texts)

    sizes = [len(r.body["input"]) for r in hosted_embeddings.received(EMBEDDINGS)]
    assert sizes == [BATCH_SIZE, 5]
    assert len(got) == len(texts)
    for text, have in zip(texts, got, strict=True):
        assert have == pytest.approx(vector_for(text), abs=1e-6)


async def test_embed_texts_dimension_mismatch(hosted_embeddings: LoopbackLLM) -> None:
    # text-embedding-3-small answers 1536 dimensions unless asked for fewer: the
    # database column is vector(384), so this must fail loudly, not store garbage.
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(1536)))

    with pytest.raises(ValueError) as caught:
        await embed_texts(["The water shut-off valve is in room B2."])

    assert str(caught.value) == (
        "openai/text-embedding-3-small returned 1536 dimensions, "
        "the database expects 384"
    )


async def test_embed_texts_empty_input_makes_no_request(
    hosted_embeddings: LoopbackLLM,
) -> None:
    assert await embed_texts([]) == []
    assert hosted_embeddings.received(EMBEDDINGS) == []


async def test_concurrent_requests_share_one_call(
    hosted_embeddings: LoopbackLLM,
) -> None:
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(384)))
    asks = [["the walk-in fridge"], ["fish delivery", "lime order"], ["the lift"]]

    got = await asyncio.gather(*(embed_texts(texts) for texts in asks))

    [request] = hosted_embeddings.received(EMBEDDINGS)
    assert request.body["input"] == [t for texts in asks for t in texts]
    for texts, vectors in zip(asks, got, strict=True):
        assert len(vectors) == len(texts)
        for text, have in zip(texts, vectors, strict=True):
            assert have == pytest.approx(vector_for(text), abs=1e-6)


async def test_a_failed_shared_call_fails_each_caller(
    hosted_embeddings: LoopbackLLM,
) -> None:
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(1536)))
    results = await asyncio.gather(
        embed_texts(["one"]), embed_texts(["two"]), return_exceptions=True
    )
    assert [type(r) for r in results] == [ValueError, ValueError]
    # The next request is served normally.
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(384)))
    assert len((await embed_texts(["three"]))[0]) == 384


async def test_questions_go_before_background_texts_in_small_calls(
    hosted_embeddings: LoopbackLLM,
) -> None:
    hosted_embeddings.script(EMBEDDINGS, Reply(body=echo(384)))
    memories = [f"memory {i}" for i in range(2 * BG_CALL + 1)]
    got = await asyncio.gather(
        embed_texts(memories, background=True),
        embed_texts(["is the lift fixed?"]),
        embed_texts(["who is on tonight?"]),
    )
    calls = [r.body["input"] for r in hosted_embeddings.received(EMBEDDINGS)]
    # Queued after the memories, the questions still go first, together...
    assert calls[0] == ["is the lift fixed?", "who is on tonight?"]
    # ...and the memories follow in calls a question could go between.
    assert [t for call in calls[1:] for t in call] == memories
    assert max(len(call) for call in calls[1:]) <= BG_CALL
    assert got[0] == [pytest.approx(vector_for(t), abs=1e-6) for t in memories]
