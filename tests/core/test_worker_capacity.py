"""How many jobs a worker process runs at once follows the model unless set: many
for a hosted model (a turn waiting on it holds no connection), few for the
built-in one (CPU work in the process)."""

from __future__ import annotations

import pytest

from app.core.settings import Settings


def test_max_jobs_follows_the_model_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKER_MAX_JOBS", raising=False)
    assert Settings(llm_model="switchboard/offline").max_jobs == 10
    assert Settings(llm_model="openai/gpt-4o-mini").max_jobs == 200
    assert Settings(llm_model="openai/gpt-4o-mini", worker_max_jobs=7).max_jobs == 7
    monkeypatch.setenv("WORKER_MAX_JOBS", "300")
    assert Settings(llm_model="switchboard/offline").max_jobs == 300
