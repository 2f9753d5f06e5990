"""Where a turn's time goes: claim, embedding, retrieval, model, validation,
execution (and, measured around it, queue wait and delivery).

`turn_clock()` opens a record for the running turn (a context variable, so nested
code needs no extra argument); `stage(name)` adds the time spent in its block to
that record, and does nothing outside a turn. With RECORD_STAGES set, the finished
record is pushed to a capped Redis list that `make bench` reads; otherwise nothing
is stored (the record costs a few perf_counter calls).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar

from app.core.redis_client import get_redis, key
from app.core.settings import get_settings

log = logging.getLogger(__name__)
RECORDS_MAX = 50_000
_current: ContextVar[dict[str, float] | None] = ContextVar("turn_stages", default=None)
_inner: ContextVar[list[float] | None] = ContextVar("stage_inner", default=None)


def stages_key() -> str:
    return key("bench", "stages")


@contextlib.contextmanager
def turn_clock() -> Iterator[dict[str, float]]:
    """The stage record of one turn (milliseconds per stage)."""
    record: dict[str, float] = {}
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as `name`. Stages are exclusive: a stage inside another
    counts for itself, not for the one around it (retrieval waiting for the
    question's embedding is embedding time), so a turn's stages add up to at
    most the turn."""
    record = _current.get()
    if record is None:
        yield
        return
    inner = [0.0]  # ms spent in stages nested in this one
    token = _inner.set(inner)
    started = time.perf_counter()
    try:
        yield
    finally:
        _inner.reset(token)
        took = (time.perf_counter() - started) * 1000
        outer = _inner.get()
        if outer is not None:
            outer[0] += took
        record[name] = record.get(name, 0.0) + took - inner[0]


async def save(record: dict[str, float | str]) -> None:
    """Keep the record for the benchmark (only with RECORD_STAGES; best effort)."""
    if not get_settings().record_stages:
        return
    try:
        async with get_redis().pipeline(transaction=False) as pipe:
            pipe.lpush(stages_key(), json.dumps(record))
            pipe.ltrim(stages_key(), 0, RECORDS_MAX - 1)
            await pipe.execute()
    except Exception:
        log.warning("saving stage timings failed", exc_info=True)
