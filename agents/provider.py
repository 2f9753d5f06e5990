"""The "switchboard" litellm custom provider: offline chat and local embeddings.

litellm keys custom providers by provider name (the part before the slash), so
"switchboard/offline" (chat) and "switchboard/minilm" (embeddings) share one
handler that dispatches on the model name. Registering it is idempotent and only
touches litellm's own registry; real providers are unaffected.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import litellm
from litellm.exceptions import BadRequestError
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import Usage

from agents.local_embedding import encode_local
from agents.offline_model import OFFLINE_MODEL_NAME, answer

PROVIDER = "switchboard"
EMBEDDING_MODEL_NAME = "minilm"

_registered = False
_lock = threading.Lock()


# The offline model has no tokenizer of its own: its usage is counted with a real
# one (litellm's token_counter, offline with the encodings litellm bundles), as the
# hosted model it stands in for would count it, so usage rows, budgets and the
# cost report price real figures. Messages are counted with their chat framing.
TOKENIZER_MODEL = "gpt-4o-mini"


def count_prompt_tokens(messages: list[Any]) -> int:
    return max(1, int(litellm.token_counter(model=TOKENIZER_MODEL, messages=messages)))


def count_text_tokens(text: str) -> int:
    return max(
        1,
        int(
            litellm.token_counter(
                model=TOKENIZER_MODEL, text=text, count_response_tokens=True
            )
        ),
    )


class SwitchboardProvider(CustomLLM):
    def _complete(self, model: str, messages: list[Any], model_response: Any) -> Any:
        name = model.split("/", 1)[-1]
        if name != OFFLINE_MODEL_NAME:
            raise BadRequestError(
                message=f"unknown switchboard chat model {model!r}",
                model=model,
                llm_provider=PROVIDER,
            )
        started = time.perf_counter()
        text = answer(messages)
        model_response.choices[0].message.content = text
        model_response.model = f"{PROVIDER}/{OFFLINE_MODEL_NAME}"
        prompt_tokens = count_prompt_tokens(messages)
        completion_tokens = count_text_tokens(text)
        model_response.usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
        model_response._response_ms = (time.perf_counter() - started) * 1000
        return model_response

    def completion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> Any:
        return self._complete(model, messages, kwargs["model_response"])

    async def acompletion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> Any:
        # The offline model is CPU work: a thread keeps the event loop (other
        # turns, heartbeats) running meanwhile.
        return await asyncio.to_thread(
            self._complete, model, messages, kwargs["model_response"]
        )

    def _embed(self, model: str, texts: list[Any], model_response: Any) -> Any:
        name = model.split("/", 1)[-1]
        if name != EMBEDDING_MODEL_NAME:
            raise BadRequestError(
                message=f"unknown switchboard embedding model {model!r}",
                model=model,
                llm_provider=PROVIDER,
            )
        vectors = encode_local([str(t) for t in texts])
        model_response.data = [
            {"object": "embedding", "index": i, "embedding": v}
            for i, v in enumerate(vectors)
        ]
        model_response.model = f"{PROVIDER}/{EMBEDDING_MODEL_NAME}"
        tokens = sum(count_text_tokens(str(t)) for t in texts)
        model_response.usage = Usage(
            prompt_tokens=tokens, completion_tokens=0, total_tokens=tokens
        )
        return model_response

    def embedding(self, model: str, input: list[Any], *args: Any, **kwargs: Any) -> Any:
        return self._embed(model, input, kwargs["model_response"])

    async def aembedding(
        self, model: str, input: list[Any], *args: Any, **kwargs: Any
    ) -> Any:
        # The encode is CPU-bound and blocking: keep the event loop free.
        return await asyncio.to_thread(
            self._embed, model, input, kwargs["model_response"]
        )


def register_providers() -> None:
    """Add the switchboard provider to litellm once per process."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        current = [
            p for p in (litellm.custom_provider_map or []) if p["provider"] != PROVIDER
        ]
        litellm.custom_provider_map = [
            *current,
            {"provider": PROVIDER, "custom_handler": SwitchboardProvider()},
        ]
        _registered = True
