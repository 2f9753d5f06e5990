"""litellm's success logging: skipped while nobody listens, unchanged once a
callback is registered (agents/success_logging.py), against the pinned litellm and
a real HTTP server speaking the OpenAI API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import litellm
import pytest
from litellm.integrations.custom_logger import CustomLogger

from agents import success_logging
from agents.model import complete
from tests.model.conftest import LoopbackLLM, Reply, chat_body

CHAT = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "When is the produce delivery?"}]
ANSWER = json.dumps({"reply": "Thursday at 07:00.", "actions": []})


class Heard(CustomLogger):  # type: ignore[misc]
    """A user's callback: what litellm's success logging hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[Any] = []
        self.event = asyncio.Event()

    async def async_log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self.responses.append(response_obj)
        self.event.set()


@pytest.fixture
def litellm_bodies(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the guard was asked, and how often litellm's own body ran; the
    callback lists are restored after the test (litellm appends to them)."""
    counts = {"asked": 0, "ran": 0}
    original_body = success_logging._litellm_body
    original_check = success_logging.has_success_callbacks

    async def body(*args: Any, **kwargs: Any) -> None:
        counts["ran"] += 1
        await original_body(*args, **kwargs)

    def check(logging_obj: Any) -> bool:
        counts["asked"] += 1
        return original_check(logging_obj)

    monkeypatch.setattr(success_logging, "_litellm_body", body)
    monkeypatch.setattr(success_logging, "has_success_callbacks", check)
    for name in ("callbacks", "success_callback", "_async_success_callback"):
        monkeypatch.setattr(litellm, name, list(getattr(litellm, name)))
    return counts


async def _until(condition: Any, seconds: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), seconds)


async def test_no_callback_skips_the_logging_payload(
    hosted_settings: LoopbackLLM, litellm_bodies: dict[str, int]
) -> None:
    hosted_settings.script(CHAT, Reply(body=chat_body(ANSWER)))

    result = await complete(MESSAGES)

    assert result.text == ANSWER
    await _until(lambda: litellm_bodies["asked"] >= 1)
    assert litellm_bodies["ran"] == 0


async def test_a_registered_callback_still_hears_every_call(
    hosted_settings: LoopbackLLM, litellm_bodies: dict[str, int]
) -> None:
    heard = Heard()
    litellm.callbacks = [heard]
    hosted_settings.script(
        CHAT, Reply(body=chat_body(ANSWER, prompt_tokens=321, completion_tokens=12))
    )

    await complete(MESSAGES)

    await asyncio.wait_for(heard.event.wait(), 5.0)
    assert litellm_bodies["ran"] == 1
    [response] = heard.responses
    assert response.usage.prompt_tokens == 321


def test_the_guard_counts_a_calls_own_callbacks() -> None:
    class Call:
        dynamic_success_callbacks: list[Any] | None = None
        dynamic_async_success_callbacks: list[Any] | None = None

    call = Call()
    assert not success_logging.has_success_callbacks(call)
    call.dynamic_async_success_callbacks = [Heard()]
    assert success_logging.has_success_callbacks(call)
