"""Monitoring figures, written by whichever process sees them happen.

A turn runs in a worker, a live tab sits in a backend, the scrape hits one backend:
figures kept in one process's memory would be invisible from the others (and from
other hosts). So every counter and histogram lives in Redis, the one store every
process already shares: one hash of counters and one of histogram buckets
(`<prefix>:metrics:c`, `<prefix>:metrics:h`), incremented in one pipeline per
recording. `app/core/metrics_export.py` renders them, with the gauges it reads at
scrape time (queue depth, open live connections), as Prometheus text.

Losing Redis resets the counters to zero, which Prometheus reads as a counter reset
(its `rate()` copes); nothing durable lives here. Recording is best effort: a Redis
failure is logged and never fails the turn or the push that was being counted.

Labels carry only tenant ids, fixed names from the code (stages, channels, reason
codes, action types from the registry) and model names from configuration; never
message text, people or places.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.core.loop_local import LoopLocal
from app.core.redis_client import get_redis, key

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the latency histograms: from a Redis round trip to a
# slow hosted model.
BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    math.inf,
)  # fmt: skip
# A label value longer than this is cut (model names come from configuration).
MAX_LABEL_CHARS = 120


def counters_key() -> str:
    return key("metrics", "c")


def histograms_key() -> str:
    return key("metrics", "h")


def series(name: str, labels: Mapping[str, str]) -> str:
    """The hash field of one series: the metric name and its sorted labels."""
    clean = {k: str(v)[:MAX_LABEL_CHARS] for k, v in sorted(labels.items())}
    return json.dumps([name, clean], separators=(",", ":"))


def parse_series(field_name: str) -> tuple[str, dict[str, str]]:
    name, labels = json.loads(field_name)
    return str(name), {str(k): str(v) for k, v in labels.items()}


def bucket_of(seconds: float) -> str:
    """The (non-cumulative) bucket an observation falls in: its upper bound."""
    for upper in BUCKETS:
        if seconds <= upper:
            return "+Inf" if math.isinf(upper) else repr(upper)
    return "+Inf"


@dataclass
class Batch:
    """Increments gathered by one caller and sent in one pipeline."""

    counts: dict[str, float] = field(default_factory=dict)
    # histogram series -> (bucket -> count), plus its sum of seconds and count
    buckets: dict[str, dict[str, int]] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)

    def inc(self, name: str, labels: Mapping[str, str], by: float = 1) -> Batch:
        if by:
            s = series(name, labels)
            self.counts[s] = self.counts.get(s, 0) + by
        return self

    def observe(self, name: str, labels: Mapping[str, str], seconds: float) -> Batch:
        s = series(name, labels)
        seconds = max(0.0, seconds)
        per = self.buckets.setdefault(s, {})
        b = bucket_of(seconds)
        per[b] = per.get(b, 0) + 1
        self.sums[s] = self.sums.get(s, 0.0) + seconds
        return self

    def empty(self) -> bool:
        return not self.counts and not self.buckets

    def add(self, other: Batch) -> None:
        """Take `other`'s increments into this batch (same series add up)."""
        for s, by in other.counts.items():
            self.counts[s] = self.counts.get(s, 0) + by
        for s, per in other.buckets.items():
            mine = self.buckets.setdefault(s, {})
            for b, n in per.items():
                mine[b] = mine.get(b, 0) + n
            self.sums[s] = self.sums.get(s, 0.0) + other.sums[s]

    async def send_soon(self) -> None:
        """Record with the other figures of the next FLUSH_S (returns at once).

        A turn records about 30 series (its stages, model calls, outcome); a busy
        worker's turns record the same series over and over, so one pipeline per
        moment costs Redis and the worker's event loop a few commands per turn
        instead of 30. Lost if the process dies within that moment (best effort,
        as every figure here)."""
        pending = _pending.get()
        pending.batch.add(self)
        if pending.task is None or pending.task.done():
            pending.task = asyncio.create_task(_flush_after(FLUSH_S))

    async def send(self) -> None:
        """Best effort: a failure is logged, never raised."""
        if self.empty():
            return
        try:
            async with get_redis().pipeline(transaction=False) as pipe:
                for s, by in self.counts.items():
                    pipe.hincrbyfloat(counters_key(), s, by)
                for s, per in self.buckets.items():
                    for b, n in per.items():
                        pipe.hincrby(histograms_key(), json.dumps([s, b]), n)
                    pipe.hincrbyfloat(
                        histograms_key(), json.dumps([s, "sum"]), self.sums[s]
                    )
                    pipe.hincrby(
                        histograms_key(), json.dumps([s, "count"]), sum(per.values())
                    )
                await pipe.execute()
        except Exception:
            log.warning("recording metrics failed", exc_info=True)


# How long figures recorded with `send_soon` wait for company.
FLUSH_S = 0.25


@dataclass
class _Pending:
    batch: Batch = field(default_factory=Batch)
    task: asyncio.Task[None] | None = None


_pending: LoopLocal[_Pending] = LoopLocal(_Pending)


async def _flush_after(delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await flush()


async def flush() -> None:
    """Send what `send_soon` holds now (a worker stopping, a test reading)."""
    pending = _pending.peek()
    if pending is None:
        return
    batch, pending.batch = pending.batch, Batch()
    await batch.send()


# What the code records (app/core/metrics_export.py describes each one).
TURNS = "switchboard_turns"
STAGE_SECONDS = "switchboard_turn_stage_seconds"
MODEL_SECONDS = "switchboard_model_call_seconds"
MODEL_TOKENS = "switchboard_model_tokens"
NOTIFICATIONS = "switchboard_notifications"
PUSH_FAILURES = "switchboard_push_failures"
REFUSED = "switchboard_refused_actions"

# Stages that are not time spent inside the turn's blocks.
NOT_STAGES = frozenset({"tenant_id", "message_id", "outcome"})


def turn_batch(
    tenant_id: str, outcome: str, record: Mapping[str, float | str]
) -> Batch:
    """A finished turn: its outcome per tenant and each stage's time (ms in the
    record, seconds in the histogram)."""
    batch = Batch().inc(TURNS, {"tenant": tenant_id, "outcome": outcome})
    for name, value in record.items():
        if name in NOT_STAGES or not isinstance(value, int | float):
            continue
        batch.observe(STAGE_SECONDS, {"stage": name}, float(value) / 1000)
    return batch


def model_call(
    batch: Batch,
    model: str,
    purpose: str,
    latency_ms: float,
    prompt_tokens: int,
    completion_tokens: int,
) -> Batch:
    labels = {"model": model, "purpose": purpose}
    batch.observe(MODEL_SECONDS, labels, latency_ms / 1000)
    batch.inc(MODEL_TOKENS, {"model": model, "kind": "prompt"}, prompt_tokens)
    batch.inc(MODEL_TOKENS, {"model": model, "kind": "completion"}, completion_tokens)
    return batch


async def count(name: str, labels: Mapping[str, str], by: float = 1) -> None:
    """One counter increment, sent now (best effort)."""
    await Batch().inc(name, labels, by).send()


async def count_many(items: Iterable[tuple[str, Mapping[str, str], float]]) -> None:
    batch = Batch()
    for name, labels, by in items:
        batch.inc(name, labels, by)
    await batch.send()


# Open live connections: each backend process (each LiveHub) keeps its own count of
# subscribed tabs per tenant in a hash that expires unless refreshed, so a process
# that dies stops counting within LIVE_TTL_S.
LIVE_TTL_S = 20


def live_key(process: str) -> str:
    return key("metrics", "live", process)


def live_pattern() -> str:
    return key("metrics", "live", "*")


async def report_live(process: str, tabs_by_tenant: Mapping[str, int]) -> None:
    """Replace this process's counts (best effort)."""
    try:
        async with get_redis().pipeline(transaction=True) as pipe:
            pipe.delete(live_key(process))
            if tabs_by_tenant:
                pipe.hset(live_key(process), mapping=dict(tabs_by_tenant))
                pipe.expire(live_key(process), LIVE_TTL_S)
            await pipe.execute()
    except Exception:
        log.warning("reporting live connections failed", exc_info=True)
