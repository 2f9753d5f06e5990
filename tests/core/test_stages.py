"""Stage timing (app/core/stages.py): exclusive stages, so a turn's stages add up
to at most the turn, whether the stages are nested or run in a task."""

from __future__ import annotations

import asyncio
import time

from app.core.stages import stage, turn_clock


def _busy(ms: float) -> None:
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


def test_a_nested_stage_counts_for_itself_not_for_the_one_around_it() -> None:
    with turn_clock() as record:
        started = time.perf_counter()
        with stage("retrieval"):
            _busy(20)
            with stage("embedding"):
                _busy(30)
            _busy(10)
        total = (time.perf_counter() - started) * 1000
    # Lower bounds only: a busy machine makes every block longer, never shorter.
    assert record["embedding"] >= 30
    assert record["retrieval"] >= 30
    assert record["embedding"] + record["retrieval"] <= total + 0.01


def test_repeated_stages_add_up_and_nothing_is_kept_outside_a_turn() -> None:
    with stage("claim"):
        pass  # no turn: nothing to record, no error
    with turn_clock() as record:
        for _ in range(3):
            with stage("model"):
                _busy(5)
    assert set(record) == {"model"}
    assert record["model"] >= 15


async def test_waiting_for_work_started_elsewhere_is_the_waiting_stage() -> None:
    def embed() -> str:
        time.sleep(0.2)
        return "vector"

    with turn_clock() as record:
        started = time.perf_counter()
        work = asyncio.get_running_loop().run_in_executor(None, embed)  # a thread
        with stage("retrieval"):
            _busy(50)  # reads while the embedding runs
            with stage("embedding"):
                assert await work == "vector"  # what is left of it
        total = (time.perf_counter() - started) * 1000
    assert record["retrieval"] >= 50
    # The turn waited for the rest of the 200 ms, not for all of it again.
    assert record["embedding"] + record["retrieval"] <= total + 0.01
    assert total >= 200
