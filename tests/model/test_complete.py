"""agents.model.complete against a real HTTP server speaking the OpenAI API."""

from __future__ import annotations

import json

import pytest

from agents.model import TOOL_NAME, ModelError, complete
from tests.model.conftest import LoopbackLLM, Reply, chat_body, error_body

CHAT = "/v1/chat/completions"
MESSAGES = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": "When is the produce delivery?"},
]
ANSWER = json.dumps({"reply": "Thursday at 07:00.", "actions": []})


async def test_complete_json_mode_answer(hosted_settings: LoopbackLLM) -> None:
    hosted_settings.script(CHAT, Reply(body=chat_body(ANSWER)))

    result = await complete(MESSAGES)

    assert result.text == ANSWER
    assert result.attempts == 1
    [request] = hosted_settings.received(CHAT)
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.body["messages"] == MESSAGES
    assert "tools" not in request.body
    assert request.headers["authorization"] == "Bearer sk-loopback-test"


async def test_complete_usage_and_cost_from_cost_map(
    hosted_settings: LoopbackLLM,
) -> None:
    hosted_settings.script(
        CHAT,
        Reply(body=chat_body(ANSWER, prompt_tokens=1000, completion_tokens=500)),
    )

    result = await complete(MESSAGES)

    assert (result.prompt_tokens, result.completion_tokens) == (1000, 500)
    # gpt-4o-mini is in litellm's bundled price map (LITELLM_LOCAL_MODEL_COST_MAP):
    # $0.15 / 1M input and $0.60 / 1M output tokens at the pinned version.
    assert result.cost_usd > 0
    assert result.cost_usd == pytest.approx(1000 * 0.15e-6 + 500 * 0.60e-6, rel=0.5)
    assert result.model.startswith("gpt-4o-mini")
    assert result.latency_ms >= 0


async def test_complete_tool_call_answer(hosted_settings: LoopbackLLM) -> None:
    schema = {
        "type": "object",
        "properties": {"reply": {"type": "string"}, "actions": {"type": "array"}},
        "required": ["reply", "actions"],
    }
    hosted_settings.script(CHAT, Reply(body=chat_body(None, tool_arguments=ANSWER)))

    result = await complete(MESSAGES, tool_schema=schema)

    assert result.text == ANSWER
    [request] = hosted_settings.received(CHAT)
    [tool] = request.body["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == TOOL_NAME
    assert tool["function"]["parameters"] == schema
    assert request.body["tool_choice"] == {
        "type": "function",
        "function": {"name": TOOL_NAME},
    }
    # Tool mode replaces JSON mode: asking for both confuses some providers.
    assert "response_format" not in request.body


async def test_complete_slow_answer_times_out(hosted_settings: LoopbackLLM) -> None:
    hosted_settings.script(CHAT, Reply(body=chat_body(ANSWER), delay_s=3.0))

    with pytest.raises(ModelError) as caught:
        await complete(MESSAGES, timeout=0.5)

    assert caught.value.kind == "timeout"
    assert "0.5 s" in str(caught.value)
    # A timeout is not retried: the job's time budget is already spent.
    assert len(hosted_settings.received(CHAT)) == 1


@pytest.mark.parametrize(
    ("header", "value", "wait_s"),
    [("retry-after", "1", 1.0), ("retry-after-ms", "1200", 1.2)],
)
async def test_complete_rate_limited_then_retried(
    hosted_settings: LoopbackLLM, header: str, value: str, wait_s: float
) -> None:
    hosted_settings.script(
        CHAT,
        Reply(
            429,
            error_body("Rate limit reached", "rate_limit_exceeded"),
            headers={header: value},
        ),
        Reply(body=chat_body(ANSWER)),
    )

    result = await complete(MESSAGES)

    assert result.text == ANSWER
    assert result.attempts == 2
    first, second = hosted_settings.received(CHAT)
    # The hint is longer than the first backoff (0.25-0.5 s), so it sets the wait.
    assert second.at - first.at >= wait_s - 0.05
    assert second.at - first.at < wait_s + 2


async def test_complete_rate_limited_until_retries_run_out(
    hosted_settings: LoopbackLLM,
) -> None:
    hosted_settings.script(
        CHAT, Reply(429, error_body("Rate limit reached", "rate_limit_exceeded"))
    )

    with pytest.raises(ModelError) as caught:
        await complete(MESSAGES, max_retries=1)

    assert caught.value.kind == "unavailable"
    assert "after 2 attempts" in str(caught.value)
    assert len(hosted_settings.received(CHAT)) == 2


async def test_complete_server_error_not_retried(
    hosted_settings: LoopbackLLM,
) -> None:
    hosted_settings.script(
        CHAT,
        Reply(500, error_body("The server had an error", "server_error")),
        Reply(body=chat_body(ANSWER)),
    )

    with pytest.raises(ModelError) as caught:
        await complete(MESSAGES)

    assert caught.value.kind == "server_error"
    assert "status 500" in str(caught.value)
    assert len(hosted_settings.received(CHAT)) == 1


async def test_complete_bad_key_is_a_request_error(
    hosted_settings: LoopbackLLM,
) -> None:
    hosted_settings.script(
        CHAT, Reply(401, error_body("Incorrect API key provided", "invalid_api_key"))
    )

    with pytest.raises(ModelError) as caught:
        await complete(MESSAGES)

    assert caught.value.kind == "request_error"
    assert len(hosted_settings.received(CHAT)) == 1
