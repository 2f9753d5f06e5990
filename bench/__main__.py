"""`make bench`: pickup latency, end-to-end latency, throughput, fairness and cost.

Runs against its own embedded PostgreSQL and Redis in a throwaway data dir (or the
servers in DATABASE_URL / REDIS_URL), with real worker processes (`python -m
jobs.worker`), the offline model and the real retrieval. Prints a Markdown report
and writes it to bench/results/latest.md.

Cost: the offline model costs nothing, so the report also prices the measured
token counts at a hosted model's rates from litellm's bundled cost map
(BENCH_PRICE_MODEL, default openai/gpt-4o-mini): what the same traffic would cost
in production. Token counts of the offline model are estimates (characters / 4).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from app.core.db import platform_session, tenant_session
from app.core.queue import get_pool
from app.core.settings import get_settings
from app.domain.actor import Actor
from app.domain.models import LlmUsage, Message, Tenant, User
from app.services.messages import submit_message
from devtools.stack import run_async, seed_and_embed, throwaway_stack

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results" / "latest.md"
TEXTS = {
    "harbor-bistro": [
        ("luis", "Heads up, the fish delivery is arriving tomorrow at 6am."),
        ("maya", "Remind the kitchen team to check the fryer oil on Friday at 4pm."),
        ("sam", "When does the produce delivery usually come?"),
        ("priya", "We are out of limes at the bar."),
    ],
    "maple-court": [
        ("ben", "The radiator in my bedroom is not working."),
        ("dana", "Tell Omar the boiler service is booked."),
        ("grace", "Finished cleaning the hallways at Maple Court."),
        ("alice", "Is there anything I should know about trash pickup?"),
    ],
    "riverside-lofts": [
        ("rita", "Let Ben know his parcel arrived at the concierge desk."),
        ("omar", "The lift at Riverside is stuck on floor 3."),
        ("ben", "My front door lock is broken."),
    ],
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 0.5):.1f} ms, p95 {pct(values, 0.95):.1f} ms, "
        f"max {max(values):.1f} ms (n={len(values)})"
    )


class Bench:
    def __init__(self) -> None:
        self.users: dict[tuple[str, str], Any] = {}
        self.tenants: dict[str, Any] = {}
        self.lines: list[str] = []

    def out(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    async def load(self) -> None:

        async with platform_session() as ps:
            self.tenants = {t.slug: t for t in (await ps.exec(select(Tenant))).all()}
        for slug, t in self.tenants.items():
            async with tenant_session(t.id) as s:
                for u in (await s.exec(select(User))).all():
                    self.users[(slug, u.handle)] = u

    async def send(self, slug: str, handle: str, text: str) -> tuple[Any, uuid.UUID]:
        u = self.users[(slug, handle)]
        sent = await submit_message(
            Actor(u.tenant_id, u.id, u.role), text, uuid.uuid4().hex
        )
        return u.tenant_id, sent.message_id

    async def wait(
        self, pending: dict[uuid.UUID, tuple[Any, float]]
    ) -> dict[uuid.UUID, float]:
        """Poll until every message is done; returns completion latency in ms."""

        done: dict[uuid.UUID, float] = {}
        by_tenant: dict[Any, list[uuid.UUID]] = {}
        for mid, (tid, _) in pending.items():
            by_tenant.setdefault(tid, []).append(mid)
        deadline = time.monotonic() + 300
        while len(done) < len(pending) and time.monotonic() < deadline:
            for tid, mids in by_tenant.items():
                left = [m for m in mids if m not in done]
                if not left:
                    continue
                async with tenant_session(tid) as s:
                    rows = (
                        await s.exec(
                            select(Message.id).where(
                                col(Message.id).in_(left),
                                col(Message.status).in_(["done", "failed"]),
                            )
                        )
                    ).all()
                now = time.perf_counter()
                for mid in rows:
                    done[mid] = (now - pending[mid][1]) * 1000
            await asyncio.sleep(0.01)
        return done

    # ------------------------------------------------------------------ runs

    async def pickup(self, n: int) -> None:
        pool = await get_pool()
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            job = await pool.enqueue_job("ping")
            assert job is not None
            await job.result(timeout=10, poll_delay=0.002)
            samples.append((time.perf_counter() - started) * 1000)
        self.out(f"- job pickup (enqueue → result, `ping`): {summary(samples)}")

    async def latency(self, n: int) -> None:
        samples = []
        flat = [(slug, h, t) for slug, items in TEXTS.items() for h, t in items]
        for i in range(n):
            slug, handle, text = flat[i % len(flat)]
            started = time.perf_counter()
            tid, mid = await self.send(slug, handle, text)
            samples += list((await self.wait({mid: (tid, started)})).values())
        self.out(f"- message end to end, one at a time: {summary(samples)}")

    async def throughput(self, n: int) -> None:
        flat = [(slug, h, t) for slug, items in TEXTS.items() for h, t in items]
        started = time.perf_counter()
        pending = {}
        for i in range(n):
            slug, handle, text = flat[i % len(flat)]
            tid, mid = await self.send(slug, handle, text)
            pending[mid] = (tid, started)
        done = await self.wait(pending)
        elapsed = time.perf_counter() - started
        self.out(
            f"- throughput: {len(done)} messages in {elapsed:.1f} s = "
            f"**{len(done) / elapsed:.1f} messages/s**; completion "
            f"{summary(list(done.values()))}"
        )

    async def fairness(self, flood: int, probes: int) -> None:
        """Tenant A floods; how long do tenant B's messages wait?"""
        pending: dict[uuid.UUID, tuple[Any, float]] = {}
        for i in range(flood):
            handle, text = TEXTS["harbor-bistro"][i % 4]
            tid, mid = await self.send("harbor-bistro", handle, text)
            pending[mid] = (tid, time.perf_counter())
        probe_ids = {}
        for i in range(probes):
            handle, text = TEXTS["maple-court"][i % 4]
            started = time.perf_counter()
            tid, mid = await self.send("maple-court", handle, text)
            probe_ids[mid] = (tid, started)
            await asyncio.sleep(0.05)
        probe_done = await self.wait(probe_ids)
        flood_done = await self.wait(pending)
        self.out(
            f"- fairness: while harbor-bistro floods {flood} messages (done in "
            f"{max(flood_done.values()) / 1000:.1f} s), maple-court's messages "
            f"complete in {summary(list(probe_done.values()))}"
        )

    async def costs(self, price_model: str) -> None:
        import litellm

        prices = litellm.model_cost.get(price_model.split("/", 1)[-1]) or {}
        p_in = float(prices.get("input_cost_per_token", 0.0))
        p_out = float(prices.get("output_cost_per_token", 0.0))
        self.out("")
        self.out(
            f"| tenant | turns | prompt tok/turn | completion tok/turn | "
            f"{price_model} $/1000 turns |"
        )
        self.out("|---|---|---|---|---|")
        for slug, t in self.tenants.items():
            async with tenant_session(t.id) as s:
                n, prompt, completion = (
                    await s.exec(
                        select(
                            func.count(),
                            func.coalesce(func.sum(LlmUsage.prompt_tokens), 0),
                            func.coalesce(func.sum(LlmUsage.completion_tokens), 0),
                        )
                    )
                ).one()
            if not n:
                continue
            per_in, per_out = prompt / n, completion / n
            dollars = 1000 * (per_in * p_in + per_out * p_out)
            self.out(
                f"| {slug} | {n} | {per_in:.0f} | {per_out:.0f} | ${dollars:.2f} |"
            )


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def run(
    args: argparse.Namespace, workers: list[subprocess.Popen[bytes]]
) -> Bench:
    b = Bench()
    await seed_and_embed()
    await b.load()
    b.out(f"# Switchboard benchmark ({time.strftime('%Y-%m-%d %H:%M')})")
    b.out("")
    b.out(
        f"{os.cpu_count()} CPUs, {len(workers)} worker process(es), offline model, "
        "embedded PostgreSQL + Redis, MiniLM embeddings on CPU."
    )
    b.out("")
    # Warm-up (model loads, connection pools, plan caches), not reported.
    for slug, items in TEXTS.items():
        tid, mid = await b.send(slug, *items[0])
        await b.wait({mid: (tid, time.perf_counter())})
    await b.pickup(args.pickups)
    await b.latency(args.messages)
    await b.throughput(args.burst)
    await b.fairness(args.flood, 5)
    b.out(
        "- worker memory (RSS): "
        + ", ".join(f"{_rss_mb(w.pid):.0f} MB" for w in workers)
    )
    await b.costs(args.price_model)
    return b


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pickups", type=int, default=200)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--burst", type=int, default=120)
    parser.add_argument("--flood", type=int, default=60)
    parser.add_argument(
        "--price-model",
        default=os.environ.get("BENCH_PRICE_MODEL", "openai/gpt-4o-mini"),
    )
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    with throwaway_stack("sb-bench-"):
        workers = [
            subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=PROJECT)
            for _ in range(args.workers)
        ]
        try:
            bench = run_async(lambda: run(args, workers))
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=30)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(bench.lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
