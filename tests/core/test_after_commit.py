"""What follows a change (live events, queued jobs) goes out once the transaction
has committed, and never when it rolls back."""

from __future__ import annotations

import uuid

import pytest

from app.core.db import after_commit, tenant_session
from app.core.live import LiveEvent, emit, events_stream
from app.core.redis_client import get_redis
from tests.conftest import Demo


async def test_runs_after_commit_not_inside_the_transaction(demo: Demo) -> None:
    tid = demo.tenant("harbor-bistro").id
    calls: list[str] = []

    async def hook() -> None:
        calls.append("ran")

    async with tenant_session(tid) as s:
        after_commit(s, hook)
        assert calls == []
    assert calls == ["ran"]


async def test_never_runs_when_the_transaction_rolls_back(demo: Demo) -> None:
    tid = demo.tenant("harbor-bistro").id
    calls: list[str] = []

    async def hook() -> None:
        calls.append("ran")

    with pytest.raises(RuntimeError):
        async with tenant_session(tid) as s:
            after_commit(s, hook)
            raise RuntimeError("the change failed")
    assert calls == []


async def test_work_of_an_earlier_commit_still_runs_after_a_later_failure(
    demo: Demo,
) -> None:
    tid = demo.tenant("harbor-bistro").id
    calls: list[str] = []

    async def first() -> None:
        calls.append("first")

    async def second() -> None:
        calls.append("second")

    with pytest.raises(RuntimeError):
        async with tenant_session(tid) as s:
            after_commit(s, first)
            await s.commit()
            after_commit(s, second)
            raise RuntimeError("the second change failed")
    assert calls == ["first"]


async def test_a_failing_hook_does_not_stop_the_others(demo: Demo) -> None:
    tid = demo.tenant("harbor-bistro").id
    calls: list[str] = []

    async def broken() -> None:
        raise ConnectionError("redis is down")

    async def fine() -> None:
        calls.append("fine")

    async with tenant_session(tid) as s:
        after_commit(s, broken)
        after_commit(s, fine)
    assert calls == ["fine"]


async def test_live_events_are_published_once_per_transaction(demo: Demo) -> None:
    tid = demo.tenant("harbor-bistro").id
    stream = events_stream(tid)
    redis = get_redis()
    tail = await redis.xrevrange(stream, count=1)
    start = tail[0][0] if tail else "0-0"
    marker = uuid.uuid4().hex
    user = uuid.uuid4()

    async with tenant_session(tid) as s:
        emit(s, tid, [LiveEvent(user, "notify", None, f"{marker}-1")])
        emit(s, tid, [LiveEvent(user, "notify", None, f"{marker}-2")])
        assert not [e for e in await redis.xrange(stream, min=start) if e[0] != start]
    got = [
        f["title"]
        for eid, f in await redis.xrange(stream, min=start)
        if eid != start and f["title"].startswith(marker)
    ]
    assert got == [f"{marker}-1", f"{marker}-2"]

    with pytest.raises(RuntimeError):
        async with tenant_session(tid) as s:
            emit(s, tid, [LiveEvent(user, "notify", None, f"{marker}-rolled-back")])
            raise RuntimeError
    titles = [f["title"] for _, f in await redis.xrange(stream, min=start)]
    assert f"{marker}-rolled-back" not in titles
