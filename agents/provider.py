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
from functools import cache, lru_cache
from typing import Any

import litellm
from litellm.exceptions import BadRequestError
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import Usage

from agents.local_embedding import encode_local
from agents.offline_model import OFFLINE_MODEL_NAME, answer
from agents.success_logging import skip_unheard_success_logging

PROVIDER = "switchboard"
EMBEDDING_MODEL_NAME = "minilm"
# The built-in chat model as litellm is asked for it.
OFFLINE_MODEL = f"{PROVIDER}/{OFFLINE_MODEL_NAME}"

_registered = False
_lock = threading.Lock()


# The offline model has no tokenizer of its own: its usage is counted with a real
# one (litellm's token_counter, offline with the encodings litellm bundles), as the
# hosted model it stands in for would count it, so usage rows, budgets and the
# cost report price real figures. Messages are counted with their chat framing.
TOKENIZER_MODEL = "gpt-4o-mini"


# Counts are cached: reply texts, memories and the conversation's earlier messages
# recur from turn to turn. token_counter counts a list of messages as the sum of
# each message (framing and fields, counted apart) plus a reply primer, so summing
# cached per-message counts gives the very same figure.


@lru_cache(maxsize=4096)
def _text_count(text: str) -> int:
    return int(
        litellm.token_counter(
            model=TOKENIZER_MODEL, text=text, count_response_tokens=True
        )
    )


@lru_cache(maxsize=512)
def _message_count(items: tuple[tuple[str, str], ...]) -> int:
    """One message with its chat framing, without the reply primer: token_counter
    counts a list as the sum of these plus the primer."""
    return int(
        litellm.token_counter(
            model=TOKENIZER_MODEL, messages=[dict(items)], count_response_tokens=True
        )
    )


@cache
def _reply_primer() -> int:
    probe = [{"role": "user", "content": "x"}]
    full = litellm.token_counter(model=TOKENIZER_MODEL, messages=probe)
    framed = litellm.token_counter(
        model=TOKENIZER_MODEL, messages=probe, count_response_tokens=True
    )
    return int(full) - int(framed)


def count_prompt_tokens(messages: list[Any]) -> int:
    plain = all(
        isinstance(m, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
        for m in messages
    )
    if not plain:
        total = int(litellm.token_counter(model=TOKENIZER_MODEL, messages=messages))
    else:
        total = _reply_primer() + sum(
            _message_count(tuple(m.items())) for m in messages
        )
    return max(1, total)


def count_text_tokens(text: str) -> int:
    return max(1, _text_count(text))


def _free(response: Any) -> Any:
    """Stamp the cost litellm would otherwise look up after every call: it uses a
    response's stamped cost as is. The built-in models run here and cost $0; the
    lookup (cost map, usage, diagnostics) was about a sixth of a turn's main-thread
    CPU in the embedding call alone (py-spy, in-process turns)."""
    response._hidden_params = {**response._hidden_params, "response_cost": 0.0}
    return response


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
        model_response.model = OFFLINE_MODEL
        prompt_tokens = count_prompt_tokens(messages)
        completion_tokens = count_text_tokens(text)
        model_response.usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
        model_response._response_ms = (time.perf_counter() - started) * 1000
        return _free(model_response)

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
        return _free(model_response)

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
        # Priced at $0 in litellm's cost map: a model it does not know sends every
        # call's cost lookup through its name-generalisation fallback (about 2 ms
        # of CPU a call, measured with cProfile), only to find no price.
        litellm.register_model(
            {
                f"{PROVIDER}/{name}": {
                    "input_cost_per_token": 0.0,
                    "output_cost_per_token": 0.0,
                    # Named too, or litellm warns at every start that it
                    # defaults them to 0.
                    "cache_creation_input_token_cost": 0.0,
                    "cache_read_input_token_cost": 0.0,
                    "litellm_provider": PROVIDER,
                    "mode": mode,
                }
                for name, mode in (
                    (OFFLINE_MODEL_NAME, "chat"),
                    (EMBEDDING_MODEL_NAME, "embedding"),
                )
            }
        )
        skip_unheard_success_logging()
        _registered = True
