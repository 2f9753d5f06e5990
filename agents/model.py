"""The one module that calls litellm for chat completions.

Why our own retry loop instead of litellm's num_retries: we need to know which
failures are worth retrying inside a worker job with a tight time limit. Rate limits
(429) and overloaded/unreachable servers (502/503/504, connection errors) are
retried with exponential backoff; a timeout or an internal error (500) is raised at
once as ModelError (a timeout already spent the job's budget; a 500 rarely heals
within seconds). Callers get one exception type with a clear message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import litellm
import openai
from litellm.exceptions import (
    APIConnectionError,
    BadGatewayError,
    RateLimitError,
    ServiceUnavailableError,
)
from litellm.exceptions import Timeout as LitellmTimeout

from agents.provider import PROVIDER, register_providers
from app.core.settings import get_settings
from app.domain.tenant_policy import BUILT_IN_MODELS, BUILT_IN_PROVIDER, MODEL_RE

log = logging.getLogger(__name__)

# litellm prints a "Give Feedback / Get Help" banner to stdout on every failed call;
# failures are reported here, as ModelError, once.
litellm.suppress_debug_info = True

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0
TOOL_NAME = "respond"


class ModelError(RuntimeError):
    """The model could not answer (timeout, server error, retries exhausted)."""

    def __init__(self, message: str, *, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: int
    attempts: int = 1


# litellm's Timeout subclasses APIConnectionError: complete() catches it first.
_RETRYABLE: tuple[type[Exception], ...] = (
    RateLimitError,
    ServiceUnavailableError,
    APIConnectionError,
    BadGatewayError,
)


def is_known_model(model: str) -> bool:
    """Whether `model` is one an organisation may choose: a built-in model, or a
    string litellm routes to a provider it knows (nothing is called)."""
    if model in BUILT_IN_MODELS:
        return True
    if model.startswith(BUILT_IN_PROVIDER) or not MODEL_RE.match(model):
        return False
    try:
        litellm.get_llm_provider(model)
    except Exception:  # litellm raises its own BadRequestError for unknown ones
        return False
    return True


def _supports_json_mode(model: str) -> bool:
    if model.startswith(PROVIDER + "/"):
        return False  # the offline model always answers JSON
    try:
        params = litellm.get_supported_openai_params(model=model) or []
    except (
        Exception
    ):  # unknown models: ask for it; drop_params removes it if unsupported
        return True
    return "response_format" in params


def _cost(response: Any, model: str) -> float:
    if model.startswith(PROVIDER + "/"):
        return 0.0
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # a model missing from the cost map costs "unknown": 0
        log.debug("no price for %s", model)
        return 0.0


def _text_of(response: Any) -> str:
    message = response.choices[0].message
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        # Tool-calling mode: the answer is the arguments of our one tool.
        args = tool_calls[0].function.arguments
        return args if isinstance(args, str) else json.dumps(args)
    return str(message.content or "")


def _hinted_delay(headers: Any) -> float:
    """The server's own hint: OpenAI sends retry-after-ms, most send retry-after
    (seconds; the HTTP-date form is rare from APIs and ignored)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name, "")) * scale)
        except (TypeError, ValueError):
            continue
    return 0.0


def _retry_after(exc: Exception, attempt: int) -> float:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    hinted = _hinted_delay(headers)
    backoff = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0**attempt)
    return min(BACKOFF_MAX_S, max(hinted, backoff * (0.5 + random.random() / 2)))


async def complete(
    messages: list[dict[str, Any]],
    *,
    model: str | None = None,
    json_mode: bool = True,
    timeout: float | None = None,
    max_retries: int | None = None,
    tool_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
) -> Completion:
    """One chat completion. With tool_schema, the model must call a `respond` tool
    whose arguments are the answer (for providers better at tools than JSON mode)."""
    register_providers()
    settings = get_settings()
    model = model or settings.llm_model
    timeout = settings.llm_timeout_s if timeout is None else timeout
    retries = settings.llm_max_retries if max_retries is None else max_retries
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "timeout": timeout,
        "num_retries": 0,
        "drop_params": True,
        "temperature": settings.llm_temperature,
        "max_tokens": settings.llm_max_tokens,
    }
    if settings.llm_api_base and not model.startswith(PROVIDER + "/"):
        kwargs["api_base"] = settings.llm_api_base
    if settings.llm_api_key and not model.startswith(PROVIDER + "/"):
        kwargs["api_key"] = settings.llm_api_key
    if tool_schema is not None:
        kwargs["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": TOOL_NAME,
                    "description": "Answer the sender and propose actions.",
                    "parameters": tool_schema,
                },
            }
        ]
        kwargs["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
    elif response_schema is not None and not model.startswith(PROVIDER + "/"):
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": response_schema},
        }
    elif json_mode and _supports_json_mode(model):
        kwargs["response_format"] = {"type": "json_object"}

    started = time.perf_counter()
    attempt = 0
    while True:
        try:
            # wait_for backs up the provider's own timeout: a custom provider or a
            # stalled stream must not hold the job past its limit.
            response = await asyncio.wait_for(
                litellm.acompletion(**kwargs), timeout=timeout + 1.0
            )
            break
        except (TimeoutError, LitellmTimeout) as exc:
            raise ModelError(
                f"{model} did not answer within {timeout:g} s", kind="timeout"
            ) from exc
        except _RETRYABLE as exc:
            if attempt >= retries:
                raise ModelError(
                    f"{model} is unavailable after {attempt + 1} attempts: "
                    f"{type(exc).__name__}",
                    kind="unavailable",
                ) from exc
            delay = _retry_after(exc, attempt)
            log.info("model call retried", extra={"model": model, "delay_s": delay})
            await asyncio.sleep(delay)
            attempt += 1
        except openai.OpenAIError as exc:
            # 500, 4xx (bad key, unknown model, request too large): not retried.
            status = getattr(exc, "status_code", None)
            raise ModelError(
                f"{model} failed (status {status}): {type(exc).__name__}",
                kind="server_error" if (status or 500) >= 500 else "request_error",
            ) from exc
    latency_ms = int((time.perf_counter() - started) * 1000)
    usage = getattr(response, "usage", None)
    return Completion(
        text=_text_of(response),
        model=str(getattr(response, "model", None) or model),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(response, model),
        latency_ms=latency_ms,
        attempts=attempt + 1,
    )
