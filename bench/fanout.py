"""Fan-out: many open tabs on one backend process, a team notification reaching 200.

    python -m bench.fanout                       # 200, 1,000 and 2,000 tabs, ~1 min
    python -m bench.fanout --tabs 1000,5000,10000

Each tab is what state/live.py runs for an open page: a subscription to this
process's live hub (app/core/live.py) and a task waiting on it. Tabs are spread over
tenants of 200 users; each round publishes one event per member of a 200-person
team (one XADD each, in one pipeline, as after a commit) and measures, per tab that
should receive it, the time from XADD (the stream entry's id) to the event in the
tab's hands. Not included: the websocket and Reflex's state delta.

Writes bench/results/fanout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from typing import Any

from app.core.live import LiveEvent, Subscription, live_hub, publish, subscribe
from app.core.settings import get_settings
from bench.machine import (
    latency_summary,
    machine,
    stop_on_sigterm,
    target,
    write_result,
)
from devtools.stack import run_async, throwaway_stack

TEAM = 200


async def _tab(sub: Subscription, got: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        _, events = await sub.next_batch(0.5)
        now = time.time() * 1000
        got.extend(now - int(ev.entry_id.split("-")[0]) for ev in events)


async def one_size(tabs: int, rounds: int) -> dict[str, Any]:
    tenants = [uuid.uuid4() for _ in range(max(1, tabs // TEAM))]
    members = {t: [uuid.uuid4() for _ in range(TEAM)] for t in tenants}
    stop = asyncio.Event()
    got: list[float] = []
    hub = live_hub()
    cms = []
    tasks = []
    opened = 0
    while opened < tabs:
        t = tenants[opened % len(tenants)]
        user = members[t][(opened // len(tenants)) % TEAM]
        cm = subscribe(t, user)
        sub = await cm.__aenter__()
        cms.append(cm)
        tasks.append(asyncio.create_task(_tab(sub, got, stop)))
        opened += 1
    reads_before = sum(r.reads for r in hub.readers.values())
    readers = len(hub.readers)
    expected = 0
    for n in range(rounds):
        tenant = tenants[n % len(tenants)]
        # Every open tab of a team member receives it (a member may have several).
        await publish(
            tenant,
            [LiveEvent(u, "notify", None, "Team notice") for u in members[tenant]],
        )
        expected += len(range(n % len(tenants), tabs, len(tenants)))
        await asyncio.sleep(0.3)
    deadline = time.monotonic() + 10
    while len(got) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    xreads = sum(r.reads for r in hub.readers.values()) - reads_before
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for cm in cms:
        await cm.__aexit__(None, None, None)
    summary = latency_summary(got)
    print(
        f"{tabs} tabs: {readers} readers, {xreads} XREADs, {len(got)}/{expected} "
        f"delivered, p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms",
        flush=True,
    )
    return {
        "readers": readers,
        "xreads": xreads,
        "expected": expected,
        "delivered": len(got),
        **summary,
    }


async def bench(sizes: list[int], rounds: int) -> dict[str, Any]:
    runs = {str(n): await one_size(n, rounds) for n in sizes}
    holding = [
        int(n)
        for n, r in runs.items()
        if r["p95_ms"] <= 250 and r["delivered"] == r["expected"]
    ]
    largest = max(holding, default=0)
    return {
        "bench": "fanout",
        "machine": machine(),
        "params": {
            "tabs": max(sizes),
            "users": max(sizes),
            "tenants": max(1, max(sizes) // TEAM),
            "recipients": TEAM,
            "rounds": rounds,
            "command": "python -m bench.fanout --tabs "
            + ",".join(str(n) for n in sizes),
        },
        "runs": runs,
        "largest_tabs_within_250ms": largest,
        "targets": {
            "hub_tabs_per_backend_p95_250ms": target(largest, 1000, at_most=False)
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout")
    parser.add_argument("--tabs", default="200,1000,2000")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    stop_on_sigterm()
    sizes = [int(n) for n in args.tabs.split(",") if n]
    with throwaway_stack("sb-bench-fanout-"):
        result = run_async(lambda: bench(sizes, args.rounds))
    print(f"written to {write_result('fanout', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
