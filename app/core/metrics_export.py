"""The Prometheus text for GET /api/metrics, built at scrape time.

Counters and histograms come from Redis, where every process records them
(app/core/metrics.py); the gauges are read now: each tenant's queue depth from its
fair queue (app/core/fair_queue.py), arq's own queue, live worker heartbeats and
the open live connections each backend process reports. Tenant labels are the
tenant's id and slug (from the tenants table), nothing else about it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from sqlmodel import col, select

from app.core import metrics
from app.core.db import platform_session
from app.core.fair_queue import admitted_key, waiting_key
from app.core.health import WORKER_FRESH_S, workers_key
from app.core.queue import queue_name
from app.core.redis_client import get_redis
from app.domain.models import Tenant

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HELP: dict[str, tuple[str, str]] = {
    metrics.TURNS: ("counter", "Assistant turns ended, by tenant and outcome."),
    metrics.STAGE_SECONDS: (
        "histogram",
        "Time a turn spends per stage (queue_wait, claim, embedding, retrieval, "
        "model, validation, execution; turn = the whole turn).",
    ),
    metrics.MODEL_SECONDS: ("histogram", "Model call latency by model and purpose."),
    metrics.MODEL_TOKENS: ("counter", "Model tokens by model and kind."),
    metrics.NOTIFICATIONS: (
        "counter",
        "Notifications by channel: inbox (rows created), live (stream entries "
        "published), push (Web Push delivered to the push service).",
    ),
    metrics.PUSH_FAILURES: (
        "counter",
        "Web Push sends that failed, by reason (gone, rejected, server_error, "
        "unreachable, error).",
    ),
    metrics.REFUSED: ("counter", "Actions refused by policy, by reason and type."),
}


@dataclass
class Snapshot:
    """Everything one scrape reads, before it is rendered."""

    slugs: dict[str, str] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, float] = field(default_factory=dict)
    queue: dict[str, tuple[int, int]] = field(default_factory=dict)
    arq_jobs: int = 0
    workers_alive: int = 0
    live_tabs: dict[str, int] = field(default_factory=dict)
    live_processes: int = 0


async def _tenant_slugs() -> dict[str, str]:
    async with platform_session() as s:
        rows = (
            await s.exec(select(Tenant.id, Tenant.slug).order_by(col(Tenant.slug)))
        ).all()
    return {str(tid): slug for tid, slug in rows}


async def _live(snap: Snapshot) -> None:
    redis = get_redis()
    keys = [k async for k in redis.scan_iter(match=metrics.live_pattern(), count=500)]
    if not keys:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for k in keys:
            pipe.hgetall(k)
        per_process = await pipe.execute()
    for tabs in per_process:
        if tabs:
            snap.live_processes += 1
        for tenant, n in tabs.items():
            snap.live_tabs[tenant] = snap.live_tabs.get(tenant, 0) + int(n)


async def snapshot() -> Snapshot:
    snap = Snapshot(slugs=await _tenant_slugs())
    tenants = list(snap.slugs)
    redis = get_redis()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(metrics.counters_key())
        pipe.hgetall(metrics.histograms_key())
        pipe.zcard(queue_name())
        pipe.zcount(workers_key(), time.time() - WORKER_FRESH_S, "+inf")
        for t in tenants:
            pipe.zcard(admitted_key(t))
            pipe.zcard(waiting_key(t))
        out = await pipe.execute()
    counters, hists, arq_jobs, alive, *depths = out
    snap.counters = {k: float(v) for k, v in counters.items()}
    snap.histograms = {k: float(v) for k, v in hists.items()}
    snap.arq_jobs, snap.workers_alive = int(arq_jobs), int(alive)
    for i, t in enumerate(tenants):
        snap.queue[t] = (int(depths[2 * i]), int(depths[2 * i + 1]))
    await _live(snap)
    return snap


def _with_slug(labels: dict[str, str], slugs: dict[str, str]) -> dict[str, str]:
    if "tenant" in labels:
        return {**labels, "tenant_slug": slugs.get(labels["tenant"], "")}
    return labels


@dataclass
class _Hist:
    buckets: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    count: float = 0.0


def histogram_series(raw: dict[str, float]) -> dict[str, _Hist]:
    """Redis fields `[series, bucket|"sum"|"count"]` → one histogram per series."""
    out: dict[str, _Hist] = {}
    for fieldname, value in raw.items():
        s, part = json.loads(fieldname)
        h = out.setdefault(s, _Hist())
        if part == "sum":
            h.total = value
        elif part == "count":
            h.count = value
        else:
            h.buckets[part] = value
    return out


def families(snap: Snapshot) -> list[Metric]:
    found: dict[str, Metric] = {}

    def family(name: str) -> Metric:
        if name not in found:
            kind, doc = HELP.get(name, ("untyped", name))
            found[name] = Metric(name, doc, kind)
        return found[name]

    for fieldname, value in sorted(snap.counters.items()):
        name, labels = metrics.parse_series(fieldname)
        family(name).add_sample(f"{name}_total", _with_slug(labels, snap.slugs), value)
    for s, h in sorted(histogram_series(snap.histograms).items()):
        name, labels = metrics.parse_series(s)
        labels = _with_slug(labels, snap.slugs)
        fam = family(name)
        running = 0.0
        for le in [_le(b) for b in metrics.BUCKETS]:
            running += h.buckets.get(le, 0.0)
            fam.add_sample(f"{name}_bucket", {**labels, "le": le}, running)
        fam.add_sample(f"{name}_count", labels, h.count)
        fam.add_sample(f"{name}_sum", labels, h.total)
    return [*found.values(), *_gauges(snap)]


def _le(upper: float) -> str:
    return "+Inf" if math.isinf(upper) else repr(upper)


def _gauge(
    name: str, doc: str, samples: Iterable[tuple[dict[str, str], float]]
) -> Metric:
    m = Metric(name, doc, "gauge")
    for labels, value in samples:
        m.add_sample(name, labels, value)
    return m


def _gauges(snap: Snapshot) -> list[Metric]:
    def tenant(t: str) -> dict[str, str]:
        return {"tenant": t, "tenant_slug": snap.slugs.get(t, "")}

    return [
        _gauge(
            "switchboard_queue_depth",
            "Message jobs per tenant: admitted (in arq's queue or running) and "
            "waiting (in the tenant's own queue).",
            [
                ({**tenant(t), "state": state}, n)
                for t, (admitted, waiting) in snap.queue.items()
                for state, n in (("admitted", admitted), ("waiting", waiting))
            ],
        ),
        _gauge(
            "switchboard_arq_queued_jobs", "Jobs in arq's queue.", [({}, snap.arq_jobs)]
        ),
        _gauge(
            "switchboard_workers_alive",
            "Workers with a fresh heartbeat.",
            [({}, snap.workers_alive)],
        ),
        _gauge(
            "switchboard_live_connections",
            "Open live connections (subscribed tabs) per tenant, over all backends.",
            [(tenant(t), n) for t, n in sorted(snap.live_tabs.items())],
        ),
        _gauge(
            "switchboard_live_backends",
            "Backend processes reporting open live connections.",
            [({}, snap.live_processes)],
        ),
    ]


class _Fixed:
    """A collector that hands over families already read."""

    def __init__(self, found: list[Metric]) -> None:
        self.found = found

    def collect(self) -> Iterable[Metric]:
        return self.found


def render(found: list[Metric]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(found))
    return generate_latest(registry)


async def scrape() -> bytes:
    return render(families(await snapshot()))
