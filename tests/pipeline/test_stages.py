"""Stage timings: a turn says where its time went (what `make bench` reports)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.redis_client import get_redis
from app.core.settings import get_settings
from app.core.stages import stage, stages_key, turn_clock
from app.services.messages import submit_message
from tests.pipeline.conftest import actor_of, wait_done

pytestmark = pytest.mark.usefixtures("clean_db")


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RECORD_STAGES", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_stages_add_up_inside_a_turn_only() -> None:
    with stage("model"):
        pass  # outside a turn: nowhere to add it, and no error
    with turn_clock() as clock:
        with stage("model"):
            pass
        with stage("model"):
            pass
    assert list(clock) == ["model"] and clock["model"] >= 0


async def test_a_turn_records_its_stages(
    demo: Any, worker: Any, recording: None
) -> None:
    maya = demo.user("harbor-bistro", "maya")
    sent = await submit_message(
        actor_of(maya), "We are out of limes at the bar.", uuid.uuid4().hex
    )
    await wait_done(maya.tenant_id, sent.message_id)
    # The record is saved just after the turn commits: wait for it.
    mine: list[dict[str, Any]] = []
    for _ in range(100):
        raw = await get_redis().lrange(stages_key(), 0, -1)  # type: ignore[misc]
        records = [json.loads(r) for r in raw]
        mine = [r for r in records if r["message_id"] == str(sent.message_id)]
        if mine:
            break
        await asyncio.sleep(0.05)
    assert len(mine) == 1
    (record,) = mine
    for name in ("queue_wait", "claim", "embedding", "retrieval", "model"):
        assert record[name] >= 0, name
    assert {"validation", "execution"} <= set(record)
    assert record["outcome"] == "done"
    # The stages happen inside the turn: they cannot add up to more than it.
    timed = {"claim", "embedding", "retrieval", "model", "validation", "execution"}
    assert sum(record[k] for k in timed & set(record)) <= record["turn"] + 1
