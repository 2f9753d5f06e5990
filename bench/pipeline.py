"""The message pipeline under load: stages, throughput, the floor, fairness, tokens
and money.

    python -m bench.pipeline                       # about 4 min on 2 cores
    python -m bench.pipeline --seconds 20 --drain 40   # longer windows, quiet machine

Real worker processes (`python -m jobs.worker`, RECORD_STAGES=1 so each turn leaves
its stage timings in Redis), the offline model, MiniLM embeddings on CPU, in a
throwaway PostgreSQL + Redis. The demo organisations are cloned to `--tenants`
tenants. Messages go in through app/services/messages.submit_message at a fixed
offered rate; each sender's replies come back through the same live fan-out the
browser tabs use (app/core/live.py `subscribe`), so "delivery" is commit → a
subscriber in another process holding the event.

Order: one message at a time and the floor (one commit, one Redis round trip, one
embedding, one vector query) on the idle pipeline, back to back, so their ratio is
taken under the same machine load; fairness; then the offered rates, lowest first.
Each rate runs for `--seconds`, then gets at most `--drain` seconds to finish; what
is still unfinished is abandoned (taken out of the queues, marked failed) so the
next phase starts on an empty pipeline and the run stays bounded. Each phase records
the machine's load average: on a shared box the absolute figures move with it, the
ratios much less.

Writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import litellm
from arq.constants import job_key_prefix
from sqlalchemy import text, update
from sqlmodel import col, select

from agents.embeddings import embed_query
from agents.retrieval import RetrievalScope, retrieve
from app.core import fair_queue
from app.core.db import platform_session, tenant_session
from app.core.live import Subscription, subscribe
from app.core.queue import message_job_id, queue_name
from app.core.redis_client import get_redis
from app.core.settings import get_settings
from app.core.stages import stages_key
from app.domain.actor import Actor
from app.domain.models import LlmUsage, Message, MessageStatus, Tenant, User
from app.services.messages import submit_message
from app.services.seed import SeedReport, embed_seeded_memories, load_demo, seed_tenant
from bench.machine import (
    cpu_calibration_ms,
    cpu_s,
    latency_summary,
    machine,
    pct,
    stop_on_sigterm,
    target,
    write_result,
)
from bench.metrics_read import metrics_figures
from bench.phrasings import Phrasings, for_tenant
from devtools.stack import run_async, seed_and_embed, throwaway_stack

PROJECT = Path(__file__).resolve().parent.parent
STAGES = (
    "queue_wait",
    "claim",
    "embedding",
    "retrieval",
    "model",
    "validation",
    "execution",
    "delivery",
)
PRICE_MODELS = (
    "gpt-4o-mini",
    "claude-haiku-4-5",
    "gpt-4o",
    "ollama/llama3.1",  # a local model: $0 per token
)
# Monthly activity profiles (assumptions, stated in the report).
PROFILES: dict[str, dict[str, Any]] = {
    "restaurant, 20 people": {
        "messages_per_month": 20 * 6 * 26,  # 6 messages per person per working day
        "assumption": "20 staff x 6 messages/day x 26 days",
    },
    "property manager, 300 units": {
        "messages_per_month": 300 * 3 + 12 * 15 * 22,
        "assumption": "300 residents x 3 messages/month + 12 staff x 15/day x 22 days",
    },
}


@dataclass
class Sender:
    tenant_id: uuid.UUID
    user: User
    phrasings: Phrasings


@dataclass
class Sent:
    tenant_id: uuid.UUID
    sent_at: float  # wall clock, s
    # When the submit started: after waiting for the submitting process's room (a
    # burst of other submits ahead of it), which `sent_at` counts and this does not.
    submitting_at: float = 0.0
    received_at: float | None = None
    delivery_ms: float | None = None


@dataclass
class Run:
    senders: dict[uuid.UUID, list[Sender]] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    worker_pids: list[int] = field(default_factory=list)
    submitting: asyncio.Semaphore | None = None

    def worker_cpu_s(self) -> float:
        """CPU seconds the worker processes have used (all their threads): per
        message, a figure that other load on the machine hardly moves."""
        return cpu_s(self.worker_pids)


def cpu_ms_per_message(run: Run, cpu_before: float, completed: int) -> float:
    used = run.worker_cpu_s() - cpu_before
    return round(1000 * used / completed, 1) if completed else 0.0


async def clone_tenants(n: int) -> None:
    """The demo organisations plus copies of them up to `n` tenants."""
    specs = load_demo()["tenants"]
    report = SeedReport()
    for i in range(max(0, n - len(specs))):
        spec = copy.deepcopy(specs[i % len(specs)])
        spec["slug"] = f"{spec['slug']}--{i // len(specs) + 2}"
        spec["name"] = f"{spec['name']} {i // len(specs) + 2}"
        tid = await seed_tenant(spec, report)
        await embed_seeded_memories([tid], report)


async def load_senders(run: Run) -> None:
    async with platform_session() as ps:
        tenants = (await ps.exec(select(Tenant))).all()
    for t in tenants:
        origin = t.slug.split("--")[0]
        lines = for_tenant(origin)
        if not lines:
            continue
        async with tenant_session(t.id) as s:
            users = (
                await s.exec(select(User).where(col(User.handle).in_(list(lines))))
            ).all()
        run.senders[t.id] = [
            Sender(t.id, u, Phrasings(lines[u.handle], key=f"{t.slug}/{u.handle}"))
            for u in users
        ]


async def _collect(run: Run, sub: Subscription, stop: asyncio.Event) -> None:
    while not stop.is_set():
        _, events = await sub.next_batch(0.5)
        now = time.time()
        for ev in events:
            mid = str(ev.data.get("message_id", ""))
            sent = run.sent.get(mid)
            if ev.kind == "reply" and sent is not None and sent.received_at is None:
                sent.received_at = now
                entry_ms = int(ev.entry_id.split("-")[0])
                sent.delivery_ms = max(0.0, now * 1000 - entry_ms)


@contextlib.asynccontextmanager
async def collecting(run: Run) -> AsyncIterator[None]:
    """Every sender's replies, through the live fan-out, while the block runs."""
    stop = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        tasks = []
        for senders in run.senders.values():
            for sd in senders:
                sub = await stack.enter_async_context(
                    subscribe(sd.tenant_id, sd.user.id)
                )
                tasks.append(asyncio.create_task(_collect(run, sub, stop)))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)


# Submits in flight at once from the bench, as many as an app process would take
# in at once: a backstop, so that a starved machine queues here instead of timing
# out on the connection pool. Which tenant's submit goes first is the submitting
# service's own rule (app/core/tenant_gate.py), as in the app, not this FIFO's.
SUBMIT_CONCURRENCY = 64


async def send(run: Run, sender: Sender) -> str:
    """Submit one message (returns its id); its clock starts when it was meant to
    go, so time spent waiting for the bench's own room counts against the
    pipeline, not for it."""
    u = sender.user
    started = time.time()
    if run.submitting is None:
        run.submitting = asyncio.Semaphore(SUBMIT_CONCURRENCY)
    async with run.submitting:
        submitting = time.time()
        result = await submit_message(
            Actor(u.tenant_id, u.id, u.role), sender.phrasings.next(), uuid.uuid4().hex
        )
    run.sent[str(result.message_id)] = Sent(sender.tenant_id, started, submitting)
    return str(result.message_id)


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (running jobs may finish), then SIGKILL after 70 s."""
    for w in workers:
        w.terminate()
    for w in workers:
        try:
            w.wait(timeout=70)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


async def offered(
    run: Run, rate: float, seconds: float, pick: Callable[[int], Sender]
) -> list[str]:
    """Send at `rate` messages/s for `seconds` (open loop: a send does not wait for
    the previous one); returns the ids of the messages it sent (not those that
    other senders running meanwhile sent)."""
    tasks: list[asyncio.Task[str]] = []
    start = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(run, pick(i))))
    sent = await asyncio.gather(*tasks, return_exceptions=True)
    return [m for m in sent if isinstance(m, str)]


def load_avg() -> float:
    """The 1-minute load average now (2 cores: above 2 means waiting for CPU)."""
    return round(os.getloadavg()[0], 2)


async def abandon(run: Run, ids: list[str], settle_s: float = 15.0) -> int:
    """Take the unfinished of `ids` out of arq's queue and the tenants' queues and
    mark them failed, then wait (at most `settle_s`) for the turns already running:
    the next phase starts on an empty pipeline. Returns how many were abandoned."""
    left = [m for m in ids if run.sent[m].received_at is None]
    if not left:
        return 0
    redis = get_redis()
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = {}
    for m in left:
        by_tenant.setdefault(run.sent[m].tenant_id, []).append(uuid.UUID(m))
    for tid, mids in by_tenant.items():
        jobs = [message_job_id(mid) for mid in mids]
        await redis.zrem(fair_queue.waiting_key(tid), *[str(m) for m in mids])
        await redis.zrem(queue_name(), *jobs)
        await redis.delete(*[job_key_prefix + j for j in jobs])
        async with tenant_session(tid) as s:
            await s.execute(
                update(Message)
                .where(
                    col(Message.id).in_(mids),
                    col(Message.status).in_(["received", "queued"]),
                )
                .values(status=MessageStatus.failed.value, error="bench: abandoned")
            )
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        busy = 0
        for tid in by_tenant:
            async with tenant_session(tid) as s:
                busy += (
                    await s.execute(
                        text(
                            "SELECT count(*) FROM messages WHERE status = 'processing'"
                        )
                    )
                ).scalar_one()
        if not busy:
            break
        await asyncio.sleep(0.2)
    # Admissions of abandoned jobs free themselves in fair_queue (job gone).
    for tid in by_tenant:
        await redis.delete(fair_queue.admitted_key(tid))
    return len(left)


async def drain(run: Run, ids: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(run.sent[m].received_at is not None for m in ids):
            return
        await asyncio.sleep(0.1)


async def stage_records(ids: list[str]) -> dict[str, dict[str, Any]]:
    raw = await get_redis().lrange(stages_key(), 0, -1)  # type: ignore[misc]
    wanted = set(ids)
    out = {}
    for item in raw:
        rec = json.loads(item)
        if rec.get("message_id") in wanted:
            out[rec["message_id"]] = rec
    return out


async def phase_summary(run: Run, ids: list[str], seconds: float) -> dict[str, Any]:
    done = [run.sent[m] for m in ids if run.sent[m].received_at is not None]
    e2e = [(s.received_at - s.sent_at) * 1000 for s in done if s.received_at]
    records = await stage_records(ids)
    stages: dict[str, Any] = {}
    for name in STAGES:
        if name == "delivery":
            values = [s.delivery_ms for s in done if s.delivery_ms is not None]
        else:
            values = [float(r[name]) for r in records.values() if name in r]
        stages[name] = latency_summary(values)
    last = max((s.received_at or 0.0) for s in done) if done else 0.0
    first = min(run.sent[m].sent_at for m in ids) if ids else 0.0
    last_sent = max(run.sent[m].sent_at for m in ids) if ids else 0.0
    return {
        "offered": len(ids),
        "completed": len(done),
        "offered_per_s": round(len(ids) / seconds, 2),
        # What the bench managed to send: on a busy box its own loop lags too.
        "sent_per_s": round(len(ids) / max(0.001, last_sent - first), 2),
        # Completions over the time from the first send to the last reply.
        "throughput_per_s": round(len(done) / max(0.001, last - first), 2),
        "end_to_end": latency_summary(e2e),
        "stages": stages,
        "load_avg_1m": load_avg(),
        # After the figures above: it blocks this loop for about half a second.
        "cpu_calibration_ms": cpu_calibration_ms(),
    }


def round_robin(run: Run, tenants: list[uuid.UUID]) -> Callable[[int], Sender]:
    def pick(i: int) -> Sender:
        senders = run.senders[tenants[i % len(tenants)]]
        return senders[(i // len(tenants)) % len(senders)]

    return pick


async def rates_phase(
    run: Run, rates: list[float], seconds: float, drain_s: float
) -> dict[str, Any]:
    tenants = list(run.senders)
    out = {}
    for rate in rates:
        load_before = load_avg()
        cpu = run.worker_cpu_s()
        ids = await offered(run, rate, seconds, round_robin(run, tenants))
        await drain(run, ids, drain_s)
        summary = await phase_summary(run, ids, seconds)
        # Over the completed (turns still running when the drain ended add a bit).
        summary["worker_cpu_ms_per_message"] = cpu_ms_per_message(
            run, cpu, summary["completed"]
        )
        summary["load_avg_1m_before"] = load_before
        summary["abandoned"] = await abandon(run, ids)
        out[str(int(rate))] = summary
        e2e = summary["end_to_end"]
        print(
            f"rate {rate}/s: {summary['completed']}/{summary['offered']} done "
            f"(sent {summary['sent_per_s']}/s), {summary['throughput_per_s']}/s, "
            f"end to end p50 {e2e['p50_ms']} p95 {e2e['p95_ms']} ms, worker CPU "
            f"{summary['worker_cpu_ms_per_message']} ms/message "
            f"(load {load_before} -> {summary['load_avg_1m']}, CPU calibration "
            f"{summary['cpu_calibration_ms']} ms)",
            flush=True,
        )
    return out


async def serial_phase(run: Run, n: int) -> dict[str, Any]:
    """One message at a time: the latency of a message with nothing queued."""
    tenants = list(run.senders)
    pick = round_robin(run, tenants)
    ids = []
    cpu = run.worker_cpu_s()
    for i in range(n):
        new = await send(run, pick(i))
        await drain(run, [new], 30)
        ids.append(new)
    summary = await phase_summary(run, ids, 1.0)
    summary["worker_cpu_ms_per_message"] = cpu_ms_per_message(
        run, cpu, summary["completed"]
    )
    e2e = summary["end_to_end"]
    print(
        f"one at a time: p50 {e2e['p50_ms']} p95 {e2e['p95_ms']} ms, worker CPU "
        f"{summary['worker_cpu_ms_per_message']} ms/message "
        f"(load {summary['load_avg_1m']}, CPU calibration "
        f"{summary['cpu_calibration_ms']} ms)",
        flush=True,
    )
    return summary


async def fairness_phase(
    run: Run,
    per_tenant_rate: float,
    factor: float,
    seconds: float,
    burst: int,
    bursts: int = 3,
) -> dict[str, Any]:
    """The quiet tenants' end-to-end p95 alone, then with one tenant at `factor`x
    their rate, then with that tenant sending `burst` messages at once, `bursts`
    times spread over the window: after one burst only the quiet messages of its
    first second or two wait behind it, a few of the window's, so its p95 would
    hang on whether one of them landed there; repeated, the window holds several
    such seconds."""
    tenants = list(run.senders)
    flooder, quiet = tenants[0], tenants[1:]
    quiet_rate = per_tenant_rate * len(quiet)

    async def quiet_load() -> list[str]:
        return await offered(run, quiet_rate, seconds, round_robin(run, quiet))

    load_before = load_avg()
    alone = await quiet_load()
    await drain(run, alone, 20)
    abandoned = await abandon(run, alone)
    flood_task = asyncio.create_task(
        offered(run, per_tenant_rate * factor, seconds, round_robin(run, [flooder]))
    )
    with_flood = await quiet_load()
    flood_ids = await flood_task
    await drain(run, with_flood + flood_ids, 30)
    abandoned += await abandon(run, with_flood + flood_ids)
    burst_pick = round_robin(run, [flooder])
    burst_ids: list[str] = []

    async def bursting() -> None:
        for n in range(bursts if burst else 0):
            await asyncio.sleep(seconds / bursts if n else 0)
            sent = await asyncio.gather(
                *(send(run, burst_pick(i)) for i in range(burst)),
                return_exceptions=True,
            )
            burst_ids.extend(m for m in sent if isinstance(m, str))

    bursts_task = asyncio.create_task(bursting())
    with_burst = await quiet_load()
    await bursts_task
    await drain(run, with_burst + burst_ids, 30)
    abandoned += await abandon(run, with_burst + burst_ids)

    def p95(ids: list[str], from_submit: bool = False) -> float:
        sent = [run.sent[m] for m in ids]
        return pct(
            [
                (s.received_at - (s.submitting_at if from_submit else s.sent_at)) * 1000
                for s in sent
                if s.received_at
            ],
            0.95,
        )

    base, flooded, bursted = p95(alone), p95(with_flood), p95(with_burst)
    # The same, from the start of each submit: without the wait for the
    # submitting process, which a burst fills with its own inserts.
    base_submitted, bursted_submitted = p95(alone, True), p95(with_burst, True)
    print(
        f"fairness: quiet p95 {base:.0f} ms alone, {flooded:.0f} ms while one "
        f"tenant sends {factor}x, {bursted:.0f} ms with {bursts} bursts of {burst} "
        f"(load {load_before} -> {load_avg()})",
        flush=True,
    )
    return {
        "quiet_tenants": len(quiet),
        "per_tenant_rate": per_tenant_rate,
        "flood_factor": factor,
        "quiet_p95_alone_ms": round(base, 1),
        "quiet_p95_with_flood_ms": round(flooded, 1),
        "ratio": round(flooded / base, 2) if base else None,
        "flood_completed": sum(1 for m in flood_ids if run.sent[m].received_at),
        "flood_sent": len(flood_ids),
        "burst": burst,
        "bursts": bursts,
        "quiet_p95_with_burst_ms": round(bursted, 1),
        "burst_ratio": round(bursted / base, 2) if base else None,
        "quiet_p95_alone_from_submit_ms": round(base_submitted, 1),
        "quiet_p95_with_burst_from_submit_ms": round(bursted_submitted, 1),
        "burst_ratio_from_submit": (
            round(bursted_submitted / base_submitted, 2) if base_submitted else None
        ),
        "seconds": seconds,
        # Quiet messages in each phase: the p95 of a few dozen or fewer is close
        # to their largest, so the ratios move from run to run.
        "quiet_messages": [len(alone), len(with_flood), len(with_burst)],
        "abandoned": abandoned,
        "load_avg_1m_before": load_before,
        "load_avg_1m": load_avg(),
    }


async def _timed(fn: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def floor_phase(run: Run) -> dict[str, Any]:
    """One commit, one Redis round trip, one embedding, one vector query. The
    embedding is of a text not embedded before, as a turn's usually is."""
    sender = next(iter(run.senders.values()))[0]
    tid, user = sender.tenant_id, sender.user
    question = sender.phrasings.next()
    vector = await embed_query(question)  # loads the model: not timed
    fresh = (f"{question} ({n})" for n in itertools.count())

    async def commit() -> None:
        async with tenant_session(tid) as s:
            await s.execute(text("SELECT 1"))

    async def redis_rtt() -> None:
        await get_redis().ping()  # type: ignore[misc]

    async def embedding() -> None:
        await embed_query(next(fresh))

    async def vector_query() -> None:
        scope = RetrievalScope(tid, user.id, user.role)
        async with tenant_session(tid) as s:
            await retrieve(s, scope, question, vector, k=6)

    parts = {
        "commit": await _timed(commit, 50),
        "redis_round_trip": await _timed(redis_rtt, 100),
        "embedding": await _timed(embedding, 30),
        "vector_query": await _timed(vector_query, 50),
    }
    out: dict[str, Any] = {k: latency_summary(v) for k, v in parts.items()}
    out["sum_p50_ms"] = round(sum(pct(v, 0.5) for v in parts.values()), 2)
    out["load_avg_1m"] = load_avg()
    out["cpu_calibration_ms"] = cpu_calibration_ms()
    print(
        f"floor: p50 sum {out['sum_p50_ms']} ms (load {out['load_avg_1m']}, "
        f"CPU calibration {out['cpu_calibration_ms']} ms)"
    )
    return out


async def tokens_and_cost(run: Run, ids: list[str]) -> dict[str, Any]:
    prompt: list[float] = []
    completion: list[float] = []
    wanted = [uuid.UUID(m) for m in ids]
    for tid in run.senders:
        async with tenant_session(tid) as s:
            rows = (
                await s.exec(
                    select(
                        LlmUsage.message_id,
                        LlmUsage.prompt_tokens,
                        LlmUsage.completion_tokens,
                    ).where(col(LlmUsage.message_id).in_(wanted))
                )
            ).all()
        per: dict[Any, list[int]] = {}
        for mid, p, c in rows:
            acc = per.setdefault(mid, [0, 0])
            acc[0] += p
            acc[1] += c
        prompt += [float(p) for p, _ in per.values()]
        completion += [float(c) for _, c in per.values()]
    mean_in = sum(prompt) / max(1, len(prompt))
    mean_out = sum(completion) / max(1, len(completion))
    models = price(mean_in, mean_out)
    return {
        "messages": len(prompt),
        "prompt_tokens": {
            "p50": pct(prompt, 0.5),
            "p95": pct(prompt, 0.95),
            "mean": round(mean_in, 1),
        },
        "completion_tokens": {
            "p50": pct(completion, 0.5),
            "p95": pct(completion, 0.95),
            "mean": round(mean_out, 1),
        },
        "tokenizer": "litellm.token_counter (gpt-4o-mini encoding)",
        "profiles": PROFILES,
        "models": models,
    }


def price(mean_in: float, mean_out: float) -> dict[str, Any]:
    """Cost per 1,000 messages and per profile-month for PRICE_MODELS, from
    litellm's bundled cost map."""
    models: dict[str, Any] = {}
    for name in PRICE_MODELS:
        info = litellm.model_cost.get(name)
        if info is None:
            models[name] = {"in_cost_map": False}
            continue
        p_in = float(info.get("input_cost_per_token") or 0.0)
        p_out = float(info.get("output_cost_per_token") or 0.0)
        per_1000 = 1000 * (mean_in * p_in + mean_out * p_out)
        models[name] = {
            "input_per_mtok": round(p_in * 1e6, 3),
            "output_per_mtok": round(p_out * 1e6, 3),
            "per_1000_messages": round(per_1000, 4),
            "per_month": {
                k: round(per_1000 * int(v["messages_per_month"]) / 1000, 2)
                for k, v in PROFILES.items()
            },
        }
    return models


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


async def bench(
    args: argparse.Namespace, workers: list[subprocess.Popen[bytes]]
) -> dict[str, Any]:
    await seed_and_embed()
    await clone_tenants(args.tenants)
    run = Run(worker_pids=[w.pid for w in workers])
    await load_senders(run)
    async with collecting(run):
        # Warm-up (model load in the worker, pools, plan caches): not reported.
        warm = await offered(run, 5, 3, round_robin(run, list(run.senders)))
        await drain(run, warm, 120)
        # Back to back on the idle pipeline: the ratio sees one machine load.
        serial = await serial_phase(run, args.serial)
        floor = await floor_phase(run)
        fairness = await fairness_phase(
            run,
            args.fair_rate,
            args.flood_factor,
            args.fair_seconds,
            args.burst,
            args.bursts,
        )
        rates = [float(r) for r in args.rates.split(",") if r]
        result_rates = await rates_phase(run, rates, args.seconds, args.drain)
        cost = await tokens_and_cost(run, list(run.sent))
    floor["one_at_a_time_p50_ms"] = serial["end_to_end"]["p50_ms"]
    targets = {
        "fairness_p95_ratio": target(fairness["ratio"] or 0.0, 1.5),
        "fairness_burst_p95_ratio": target(fairness["burst_ratio"] or 0.0, 1.5),
        "floor_ratio_p50": target(
            serial["end_to_end"]["p50_ms"] / max(0.001, floor["sum_p50_ms"]), 3.0
        ),
        "prompt_tokens_p95": target(cost["prompt_tokens"]["p95"], 1500),
    }
    if "50" in result_rates:
        at_50 = result_rates["50"]
        targets["p95_ms_at_50_per_s"] = target(at_50["end_to_end"]["p95_ms"], 100.0)
        # p95 over the completed only flatters a rate that left work undone.
        targets["completed_share_at_50_per_s"] = target(
            at_50["completed"] / max(1, at_50["offered"]), 1.0, at_most=False
        )
    return {
        "bench": "pipeline",
        "machine": machine(),
        "params": {
            "workers": args.workers,
            "tenants": len(run.senders),
            "seconds_per_rate": args.seconds,
            "model": get_settings().llm_model,
            "worker_max_jobs": get_settings().max_jobs,
            "tenant_max_concurrency": get_settings().tenant_max_concurrency,
            "drain_s": args.drain,
            "phrasings": len(
                {
                    t
                    for ss in run.senders.values()
                    for sd in ss
                    for t in sd.phrasings.texts
                }
            ),
            "command": "python -m bench.pipeline "
            f"--rates {args.rates} --seconds {args.seconds:g} --drain {args.drain:g} "
            f"--serial {args.serial} "
            f"--fair-rate {args.fair_rate:g} --fair-seconds {args.fair_seconds:g} "
            f"--burst {args.burst} --bursts {args.bursts}",
        },
        "one_at_a_time": serial,
        "rates": result_rates,
        "floor": floor,
        "fairness": fairness,
        "cost": cost,
        "worker_rss_mb": [_rss_mb(w.pid) for w in workers],
        # The same run as /api/metrics shows it (every phase together).
        "metrics": await metrics_figures(),
        "targets": targets,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--rates", default="10,50,100", help="offered messages/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="per rate")
    parser.add_argument(
        "--drain", type=float, default=10.0, help="s to finish after each rate"
    )
    parser.add_argument("--serial", type=int, default=15, help="one at a time")
    parser.add_argument("--fair-rate", type=float, default=0.1, help="msg/s/tenant")
    parser.add_argument("--flood-factor", type=float, default=10.0)
    parser.add_argument("--fair-seconds", type=float, default=15.0)
    parser.add_argument("--burst", type=int, default=40, help="flood all at once")
    parser.add_argument(
        "--bursts", type=int, default=3, help="bursts spread over the window"
    )
    args = parser.parse_args()
    # sqlmodel nags about session.execute on text statements: not for a bench log.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["RECORD_STAGES"] = "1"
    get_settings.cache_clear()
    stop_on_sigterm()
    with throwaway_stack("sb-bench-"):
        workers = [
            subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=PROJECT)
            for _ in range(args.workers)
        ]
        try:
            result = run_async(lambda: bench(args, workers))
        finally:
            stop_workers(workers)
    print(f"written to {write_result('pipeline', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
