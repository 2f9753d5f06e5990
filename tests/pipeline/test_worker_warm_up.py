"""`running_worker` (scenario runs and integration tests) hands over the worker
once its warm-up has ended, so a first message never meets the warm-up's own model
call (a test counting model calls saw two where one was made)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jobs import worker as worker_module
from jobs.worker import running_worker


async def test_running_worker_yields_after_the_warm_up(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []

    async def slow_warm_up() -> None:
        steps.append("warming")
        await asyncio.sleep(0.3)
        steps.append("warm")

    monkeypatch.setattr(worker_module, "_warm_up", slow_warm_up)
    async with running_worker():
        steps.append("yielded")
    assert steps == ["warming", "warm", "yielded"]
