"""A backlogged tenant's turns step aside for others' turns in the same worker."""

from __future__ import annotations

import asyncio

import pytest

from app.core import turn_priority


async def _stages(name: str, behind: bool, log: list[str], steps: int = 3) -> None:
    """A turn of `steps` CPU stages, stepping aside between them as turns do."""
    with turn_priority.turn(behind) as place:
        for i in range(steps):
            await place.step_aside()
            log.append(f"{name}{i}")
            await asyncio.sleep(0)  # a stage's awaits let other turns run


async def test_a_backlogged_turn_waits_for_a_quiet_tenants_turn() -> None:
    log: list[str] = []
    await asyncio.gather(
        _stages("burst", True, log),
        _stages("quiet", False, log),
    )
    # The burst's first stage ran before the quiet turn arrived; its next stages
    # wait until the quiet turn is done.
    assert log == ["burst0", "quiet0", "quiet1", "quiet2", "burst1", "burst2"]


async def test_turns_of_equal_standing_interleave() -> None:
    log: list[str] = []
    await asyncio.gather(_stages("a", False, log), _stages("b", False, log))
    assert log[:2] == ["a0", "b0"]
    log.clear()
    await asyncio.gather(_stages("a", True, log), _stages("b", True, log))
    assert log[:2] == ["a0", "b0"]


async def test_a_turn_waiting_on_a_hosted_model_does_not_hold_others_back() -> None:
    log: list[str] = []
    answered = asyncio.Event()

    async def hosted() -> None:
        with turn_priority.turn(False) as place, place.off_cpu(waiting=True):
            await answered.wait()
        log.append("hosted done")

    waiting = asyncio.create_task(hosted())
    await asyncio.sleep(0)
    await _stages("burst", True, log)  # not held while the model is out
    answered.set()
    await waiting
    assert log == ["burst0", "burst1", "burst2", "hosted done"]


async def test_stepping_aside_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turn_priority, "MAX_WAIT_S", 0.05)
    log: list[str] = []
    stuck = asyncio.Event()

    async def never_ends() -> None:
        with turn_priority.turn(False):
            await stuck.wait()

    holder = asyncio.create_task(never_ends())
    await asyncio.sleep(0)
    await asyncio.wait_for(_stages("burst", True, log), 5)
    assert log == ["burst0", "burst1", "burst2"]
    stuck.set()
    await holder


async def test_outside_a_worker_job_a_turn_steps_aside_for_nobody() -> None:
    place = turn_priority.current()
    assert not place.behind
    await asyncio.wait_for(place.step_aside(), 1)
