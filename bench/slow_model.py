"""The production question: with a slow hosted model, is the platform the bottleneck?

    python -m bench.slow_model                          # about 2 min
    python -m bench.slow_model --rates 20,70 --seconds 20 --burst 300  # longer

A loopback OpenAI-compatible server (bench/loopback_model.py) answers every call
after 1.5 s (plus a tokens/s rate). One worker process with room for many jobs
(WORKER_MAX_JOBS) serves `--tenants` tenants at fixed offered rates. Reported per
rate: how many model calls the worker held at once (the server counts them), how
many database connections were busy meanwhile (sampled from pg_stat_activity: a turn
must not hold one while it waits), end-to-end p50/p95 against 1.2 x the model's
latency, and the throughput sustained. Then a burst: `--burst` messages at once,
spread over the tenants; the most model calls the server held at once is how many
turns one worker process ran concurrently. Last, fairness as in bench/pipeline.py:
the quiet tenants' p95 alone, while one tenant sends 10x their rate, and after it
sends a burst. Unfinished work is abandoned after each phase (bench/pipeline.py
`abandon`), so the run stays bounded.

Writes bench/results/slow_model.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import text

from app.core.db import platform_session
from app.core.settings import get_settings
from bench.machine import free_port, machine, stop_on_sigterm, target, write_result
from bench.pipeline import (
    Run,
    abandon,
    clone_tenants,
    collecting,
    cpu_ms_per_message,
    drain,
    fairness_phase,
    load_avg,
    load_senders,
    offered,
    phase_summary,
    round_robin,
    send,
    stop_workers,
)
from devtools.stack import run_async, seed_and_embed, throwaway_stack

PROJECT = Path(__file__).resolve().parent.parent
# A transaction left idle for over a second while the model takes 1.5 s is one
# held across the model call; shorter idle spells are a busy event loop.
BUSY_SQL = text(
    "SELECT count(*) FILTER (WHERE state = 'active'), "
    "count(*) FILTER (WHERE state LIKE 'idle in transaction%'), "
    "count(*) FILTER (WHERE state LIKE 'idle in transaction%' "
    "AND now() - state_change > interval '1 second') "
    "FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()"
)


def server_stats(port: int, reset: bool = False) -> dict[str, int]:
    url = f"http://127.0.0.1:{port}/stats" + ("?reset=1" if reset else "")
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback)
        stats: dict[str, int] = json.loads(r.read())
    return stats


async def sample_connections(stop: asyncio.Event, out: dict[str, int]) -> None:
    """The most app-role connections seen running a statement, and holding a
    transaction open, at once (the bench's own submits included)."""
    while not stop.is_set():
        try:
            async with platform_session() as ps:
                row = (await ps.execute(BUSY_SQL)).one()
            for name, value in zip(
                ("active_max", "idle_in_transaction_max", "held_over_1s_max"),
                row,
                strict=True,
            ):
                out[name] = max(out.get(name, 0), int(value))
        except Exception:
            pass
        await asyncio.sleep(0.1)


async def burst_phase(run: Run, port: int, n: int, drain_s: float) -> dict[str, Any]:
    """`n` messages at once over every tenant: how many turns wait on the model
    together, and whether any of them holds a database connection meanwhile."""
    if n <= 0:
        return {}
    tenants = list(run.senders)
    pick = round_robin(run, tenants)
    load_before = load_avg()
    await asyncio.to_thread(server_stats, port, True)
    stop = asyncio.Event()
    conns: dict[str, int] = {}
    sampler = asyncio.create_task(sample_connections(stop, conns))
    started = time.time()
    sent = await asyncio.gather(
        *(send(run, pick(i)) for i in range(n)), return_exceptions=True
    )
    ids = [m for m in sent if isinstance(m, str)]
    await drain(run, ids, drain_s)
    stop.set()
    await sampler
    stats = await asyncio.to_thread(server_stats, port)
    summary = await phase_summary(run, ids, max(0.001, time.time() - started))
    summary["load_avg_1m_before"] = load_before
    summary["abandoned"] = await abandon(run, ids)
    summary["model_calls_in_flight_max"] = stats["peak"]
    summary["db_connections"] = conns
    print(
        f"burst of {n}: {summary['completed']} done, {stats['peak']} model calls at "
        f"once, idle in tx over 1 s max {conns.get('held_over_1s_max')} "
        f"(load {load_before} -> {summary['load_avg_1m']})",
        flush=True,
    )
    return summary


async def bench(args: argparse.Namespace, port: int, worker_pid: int) -> dict[str, Any]:
    await seed_and_embed()
    await clone_tenants(args.tenants)
    run = Run(worker_pids=[worker_pid])
    await load_senders(run)
    tenants = list(run.senders)
    results: dict[str, Any] = {}
    async with collecting(run):
        warm = await offered(run, 5, 2, round_robin(run, tenants))
        await drain(run, warm, 120)
        for rate in [float(r) for r in args.rates.split(",") if r]:
            load_before = load_avg()
            cpu = run.worker_cpu_s()
            await asyncio.to_thread(server_stats, port, True)
            stop = asyncio.Event()
            conns: dict[str, int] = {}
            sampler = asyncio.create_task(sample_connections(stop, conns))
            ids = await offered(run, rate, args.seconds, round_robin(run, tenants))
            await drain(run, ids, args.drain)
            stop.set()
            await sampler
            stats = await asyncio.to_thread(server_stats, port)
            summary = await phase_summary(run, ids, args.seconds)
            summary["worker_cpu_ms_per_message"] = cpu_ms_per_message(
                run, cpu, summary["completed"]
            )
            summary["load_avg_1m_before"] = load_before
            summary["abandoned"] = await abandon(run, ids)
            summary["model_calls_in_flight_max"] = stats["peak"]
            summary["db_connections"] = conns
            results[str(int(rate))] = summary
            e2e = summary["end_to_end"]
            print(
                f"rate {rate}/s: {summary['completed']}/{summary['offered']} done, "
                f"{summary['throughput_per_s']}/s, {stats['peak']} model calls at "
                f"once, db active max {conns.get('active_max')}, idle in tx max "
                f"{conns.get('idle_in_transaction_max')} (over 1 s: "
                f"{conns.get('held_over_1s_max')}); end to end p50 "
                f"{e2e['p50_ms']} p95 {e2e['p95_ms']} ms "
                f"(load {load_before} -> {summary['load_avg_1m']})",
                flush=True,
            )
        burst = await burst_phase(run, port, args.burst, args.drain)
        fairness = await fairness_phase(
            run,
            args.fair_rate,
            10.0,
            args.fair_seconds,
            args.fair_burst,
            args.fair_bursts,
        )
    limit_ms = 1.2 * args.latency * 1000
    holding = [
        r["throughput_per_s"]
        for r in results.values()
        if r["end_to_end"]["p95_ms"] <= limit_ms and r["completed"] == r["offered"]
    ]
    peak = max(
        [r["model_calls_in_flight_max"] for r in results.values()]
        + [burst.get("model_calls_in_flight_max", 0)]
    )
    held = max(
        r["db_connections"].get("held_over_1s_max", 0)
        for r in [*results.values(), burst]
        if "db_connections" in r
    )
    return {
        "bench": "slow_model",
        "machine": machine(),
        "params": {
            "model_latency_s": args.latency,
            "tokens_per_s": args.tps,
            "tenants": len(tenants),
            "seconds_per_rate": args.seconds,
            "worker_max_jobs": args.max_jobs,
            "tenant_max_concurrency": args.tenant_cap,
            "db_pool_size": get_settings().db_pool_size,
            "command": "python -m bench.slow_model "
            f"--rates {args.rates} --seconds {args.seconds:g} --drain {args.drain:g} "
            f"--burst {args.burst} --fair-rate {args.fair_rate:g} "
            f"--fair-seconds {args.fair_seconds:g} --fair-burst {args.fair_burst} "
            f"--fair-bursts {args.fair_bursts}",
        },
        "rates": results,
        "burst": burst,
        "fairness": fairness,
        "sustained_per_s_at_p95_within_1_2x": max(holding, default=0.0),
        "targets": {
            "concurrent_turns_per_worker": target(peak, 100, at_most=False),
            # Transactions left open over a second while the model takes 1.5 s.
            "db_connections_held_while_waiting": target(held, 0),
            "fairness_p95_ratio": target(fairness["ratio"] or 0.0, 1.5),
            "fairness_burst_p95_ratio": target(fairness["burst_ratio"] or 0.0, 1.5),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_model")
    parser.add_argument("--latency", type=float, default=1.5)
    parser.add_argument("--tps", type=float, default=60.0)
    parser.add_argument("--rates", default="20,70", help="offered messages/s")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--drain", type=float, default=10.0, help="s to finish")
    parser.add_argument("--burst", type=int, default=150, help="messages at once")
    parser.add_argument("--fair-rate", type=float, default=0.1, help="msg/s/tenant")
    parser.add_argument("--fair-seconds", type=float, default=10.0)
    parser.add_argument("--fair-burst", type=int, default=40)
    parser.add_argument("--fair-bursts", type=int, default=3)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--max-jobs", type=int, default=300)
    parser.add_argument("--tenant-cap", type=int, default=20)
    args = parser.parse_args()
    # sqlmodel nags about session.execute on text statements: not for a bench log.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    port = free_port()
    os.environ.update(
        {
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            "RECORD_STAGES": "1",
            "LLM_MODEL": "openai/loopback-slow",
            "LLM_API_BASE": f"http://127.0.0.1:{port}/v1",
            "LLM_API_KEY": "loopback",
            "LLM_TIMEOUT_S": "30",
            "WORKER_MAX_JOBS": str(args.max_jobs),
            "TENANT_MAX_CONCURRENCY": str(args.tenant_cap),
        }
    )
    get_settings.cache_clear()
    stop_on_sigterm()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.loopback_model", "--port", str(port)]
        + ["--latency", str(args.latency), "--tps", str(args.tps)],
        cwd=PROJECT,
    )
    try:
        for _ in range(100):
            try:
                server_stats(port)
                break
            except OSError:
                time.sleep(0.1)
        with throwaway_stack("sb-bench-slow-"):
            worker = subprocess.Popen(
                [sys.executable, "-m", "jobs.worker"], cwd=PROJECT
            )
            try:
                result = run_async(lambda: bench(args, port, worker.pid))
            finally:
                stop_workers([worker])
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"written to {write_result('slow_model', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
