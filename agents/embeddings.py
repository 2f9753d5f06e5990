"""Text embeddings through litellm; the default is all-MiniLM-L6-v2 in-process.

`embed_texts` always goes through `litellm.aembedding(settings.embedding_model)`, so
a hosted embedding model is one setting away (the dimension is fixed per deployment:
the column is vector(384)). The default "switchboard/minilm" is served by our litellm
custom provider (agents/provider.py), which calls agents/local_embedding.py.

litellm routes `aembedding` for providers in `litellm.custom_provider_map` to the
handler's `aembedding` (litellm/main.py, `elif custom_llm_provider in
litellm._custom_providers`), checked in the pinned version, so no bypass is needed.
"""

from __future__ import annotations

import logging
from typing import Any

import litellm

from agents.provider import register_providers
from app.core.settings import get_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 64
LOCAL_PREFIX = "switchboard/"


async def embed_texts(texts: list[str]) -> list[list[float]]:
    """Embed texts in batches through litellm with the configured model."""
    if not texts:
        return []
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


async def embed_query(text: str) -> list[float] | None:
    """One query's embedding, or None when the model failed: retrieval then runs on
    full text alone (the answer is worse, not lost)."""
    try:
        return (await embed_texts([text]))[0]
    except Exception:
        log.warning("query embedding failed; full-text retrieval only", exc_info=True)
        return None
