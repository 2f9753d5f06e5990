"""Text embeddings through litellm; the default is all-MiniLM-L6-v2 in-process.

`embed_texts` always goes through `litellm.aembedding(settings.embedding_model)`, so
a hosted embedding model is one setting away (the dimension is fixed per deployment:
the column is vector(384)). The default "switchboard/minilm" is served by our litellm
custom provider (agents/provider.py), which calls agents/local_embedding.py.

litellm routes `aembedding` for providers in `litellm.custom_provider_map` to the
handler's `aembedding` (litellm/main.py, `elif custom_llm_provider in
litellm._custom_providers`), checked in the pinned version, so no bypass is needed.

Concurrent callers share calls: requests made while another is being embedded (the
worker runs many turns at once: each embeds its question, then its new memories)
wait for it and go together in the next call. One call of n texts costs far less
than n calls, in-process (one forward pass) and hosted (one round trip).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import litellm

from agents.provider import register_providers
from app.core.loop_local import LoopLocal
from app.core.settings import get_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 64
# Texts per background call: about 25 ms of CPU for MiniLM on one thread, the most
# a question that arrives meanwhile waits.
BG_CALL = 8
_Request = tuple[list[str], "asyncio.Future[list[list[float]]]"]
LOCAL_PREFIX = "switchboard/"


class _Batcher:
    """One event loop's embedding requests, gathered into shared calls. A turn's
    question goes first; background texts (memories stored by turns that have
    replied) go in small calls when no question waits, so a question never waits
    behind a long forward pass."""

    def __init__(self) -> None:
        self.pending: list[_Request] = []
        self.background: list[_Request] = []
        self.task: asyncio.Task[None] | None = None

    async def embed(self, texts: list[str], background: bool) -> list[list[float]]:
        future: asyncio.Future[list[list[float]]] = (
            asyncio.get_running_loop().create_future()
        )
        (self.background if background else self.pending).append((texts, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain())
        return await future

    def _next_call(self) -> list[_Request]:
        queue, limit = (
            (self.pending, BATCH_SIZE) if self.pending else (self.background, BG_CALL)
        )
        batch: list[_Request] = []
        size = 0
        while queue and (not batch or size + len(queue[0][0]) <= limit):
            item = queue.pop(0)
            batch.append(item)
            size += len(item[0])
        return batch

    async def _drain(self) -> None:
        # Starts on the next loop turn: requests made in this one join the first
        # call; those made while it runs join the next.
        await asyncio.sleep(0)
        while batch := self._next_call():
            texts = [t for ts, _ in batch for t in ts]
            try:
                vectors = await _embed_now(texts)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for ts, future in batch:
                if not future.done():  # a cancelled caller
                    future.set_result(vectors[start : start + len(ts)])
                start += len(ts)


_batchers = LoopLocal(_Batcher)


async def embed_texts(
    texts: list[str], *, background: bool = False
) -> list[list[float]]:
    """Embed texts through litellm with the configured model, in shared calls;
    `background` texts wait for the questions of running turns."""
    if not texts:
        return []
    if len(texts) >= BATCH_SIZE and not background:
        # A bulk request (the sweeper's backlog) fills calls on its own and must
        # not make a turn's question wait behind it.
        return await _embed_now(list(texts))
    batcher = _batchers.get()
    if background and len(texts) > BG_CALL:
        # In small calls, so that a question can go between them.
        parts = await asyncio.gather(
            *(
                batcher.embed(list(texts[i : i + BG_CALL]), True)
                for i in range(0, len(texts), BG_CALL)
            )
        )
        return [v for part in parts for v in part]
    return await batcher.embed(list(texts), background)


async def _embed_now(texts: list[str]) -> list[list[float]]:
    """One request's texts in calls of at most BATCH_SIZE."""
    register_providers()
    settings = get_settings()
    model = settings.embedding_model
    extra: dict[str, Any] = {}
    if not embeds_in_process():
        # A hosted embedding model uses the same endpoint and key as the chat model.
        extra = {"api_base": settings.llm_api_base, "api_key": settings.llm_api_key}
    out: list[list[float]] = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = texts[start : start + BATCH_SIZE]
        response = await litellm.aembedding(
            model=model, input=batch, timeout=settings.llm_timeout_s, **extra
        )
        data = sorted(response.data, key=lambda d: _get(d, "index"))
        for item in data:
            vector = [float(x) for x in _get(item, "embedding")]
            if len(vector) != settings.embedding_dim:
                raise ValueError(
                    f"{model} returned {len(vector)} dimensions, the database "
                    f"expects {settings.embedding_dim}"
                )
            out.append(vector)
    if len(out) != len(texts):
        raise ValueError(f"{model} returned {len(out)} vectors for {len(texts)}")
    return out


def _get(item: Any, key: str) -> Any:
    return item[key] if isinstance(item, dict) else getattr(item, key)


def embeds_in_process() -> bool:
    """The configured embedding model runs in this process (no remote call)."""
    return get_settings().embedding_model.startswith(LOCAL_PREFIX)


async def embed_query(text: str) -> list[float] | None:
    """One query's embedding, or None when the model failed: retrieval then runs on
    full text alone (the answer is worse, not lost)."""
    try:
        return (await embed_texts([text]))[0]
    except Exception:
        log.warning("query embedding failed; full-text retrieval only", exc_info=True)
        return None
