"""The worker's warm-up (jobs/worker.py `_warm_up`): with the built-in model it
runs one completion through litellm, so litellm's lazy imports are not paid in the
first user's turn; with a hosted model it calls nobody; a failure is only logged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agents.model import complete
from app.core.settings import get_settings
from jobs import worker
from tests.model.conftest import LoopbackLLM


@pytest.fixture
def completions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """What the warm-up asks of agents.model.complete (the real one runs)."""
    calls: list[dict[str, Any]] = []

    async def recorded(messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        calls.append({"messages": messages, **kwargs})
        return await complete(messages, **kwargs)

    monkeypatch.setattr(worker, "complete", recorded)
    yield calls


async def test_built_in_model_is_warmed_through_litellm(
    completions: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_MODEL", "switchboard/offline")
    get_settings.cache_clear()
    try:
        await worker._warm_up()
    finally:
        get_settings.cache_clear()
    [call] = completions
    assert call["model"] == "switchboard/offline"


async def test_hosted_model_is_not_called_by_the_warm_up(
    hosted_settings: LoopbackLLM, completions: list[dict[str, Any]]
) -> None:
    await worker._warm_up()
    assert completions == []
    assert hosted_settings.received("/v1/chat/completions") == []


async def test_a_failed_warm_up_is_only_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no model")

    monkeypatch.setenv("LLM_MODEL", "switchboard/offline")
    monkeypatch.setattr(worker, "complete", broken)
    get_settings.cache_clear()
    try:
        await worker._warm_up()
    finally:
        get_settings.cache_clear()
    assert "model warm-up failed" in caplog.text
