"""What one assistant turn costs the worker's event loop: CPU, SQL statements and
Redis commands, one turn at a time, in one process.

    python -m bench.turn_cpu                 # 200 turns, about 1 min
    python -m bench.turn_cpu --profile 20    # and the top functions by own time

Under load one worker process is limited by its event-loop thread (the embedding
runs in a pool thread, the database and Redis in their servers), so the CPU that
thread spends per turn bounds the messages/s one process sustains: 1000 / CPU ms.
This runs the arq job function itself (`jobs.tasks.process_message`: fairness slot,
turn, hand-over) on messages submitted through the service, against a throwaway
PostgreSQL + Redis with the demo organisations, and counts what each turn sends.

Writes bench/results/turn_cpu.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
import warnings
from typing import Any

from redis.asyncio.connection import AbstractConnection
from sqlalchemy import event
from sqlmodel import col, select

from app.core.db import app_engine, platform_session, tenant_session
from app.core.redis_client import get_redis
from app.core.settings import get_settings
from app.core.stages import stages_key
from app.domain.actor import Actor
from app.domain.models import Tenant, User
from app.services.messages import submit_message
from bench.machine import latency_summary, machine, stop_on_sigterm, write_result
from bench.phrasings import Phrasings, for_tenant
from devtools.stack import run_async, seed_and_embed, throwaway_stack
from jobs.tasks import process_message

# A turn's stages inside the worker (queue wait and delivery are not in-process).
STAGES = ("claim", "embedding", "retrieval", "model", "validation", "execution")


class Counts:
    """SQL statements and Redis commands the turn sends, and the connections it
    takes from the pool (one per transaction)."""

    def __init__(self) -> None:
        self.sql = 0
        self.redis = 0
        self.checkouts = 0  # database connections taken: one per transaction
        self.sql_text: dict[str, int] = {}  # the turn's statements by their text
        self.active = False  # counting (a turn or a submit)
        self.listing = False  # and listing the statements (a turn's)

    def on_sql(self, *args: Any) -> None:
        if not self.active:
            return
        self.sql += 1
        if self.listing:
            statement = str(args[2]).split("\n", 1)[0][:90]
            self.sql_text[statement] = self.sql_text.get(statement, 0) + 1

    def on_checkout(self, *args: Any) -> None:
        self.checkouts += self.active


def count_redis(counts: Counts) -> None:
    """Every command packed for the wire, pipelined ones included."""
    original = AbstractConnection.pack_command

    def counted(self: AbstractConnection, *args: Any) -> list[bytes]:
        if counts.active:
            counts.redis += 1
        if counts.listing:
            name = f"redis {args[0]!s}"
            counts.sql_text[name] = counts.sql_text.get(name, 0) + 1
        return original(self, *args)

    AbstractConnection.pack_command = counted  # type: ignore[method-assign]


async def senders() -> list[tuple[Actor, Phrasings]]:
    """Every demo user with phrasings, and theirs."""
    out = []
    async with platform_session() as ps:
        tenants = (await ps.exec(select(Tenant))).all()
    for t in tenants:
        lines = for_tenant(t.slug)
        async with tenant_session(t.id) as s:
            users = (
                await s.exec(select(User).where(col(User.handle).in_(list(lines))))
            ).all()
        out += [
            (
                Actor(t.id, u.id, u.role),
                Phrasings(lines[u.handle], f"{t.slug}/{u.handle}"),
            )
            for u in users
        ]
    return out


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    await seed_and_embed()
    people = await senders()
    counts = Counts()
    event.listen(app_engine().sync_engine, "before_cursor_execute", counts.on_sql)
    event.listen(app_engine().sync_engine.pool, "checkout", counts.on_checkout)
    count_redis(counts)
    turns = [
        (people[i % len(people)][0], people[i % len(people)][1].next())
        for i in range(args.turns + args.warmup)
    ]
    cpu: list[float] = []
    wall: list[float] = []
    sql: list[int] = []
    redis: list[int] = []
    checkouts: list[int] = []
    # The submit is the API's (or the app's) work, not the worker's: apart.
    submit_cpu: list[float] = []
    submit_sql: list[int] = []
    submit_redis: list[int] = []
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    for i, (actor, text) in enumerate(turns):
        if i == args.warmup:
            for series in (cpu, wall, sql, redis, checkouts):
                series.clear()
            for series in (submit_cpu, submit_sql, submit_redis):
                series.clear()
            counts.sql_text.clear()
        sql0, redis0 = counts.sql, counts.redis
        counts.active = True
        c0 = time.thread_time()
        sent = await submit_message(actor, text, uuid.uuid4().hex)
        submit_cpu.append((time.thread_time() - c0) * 1000)
        counts.active = False
        submit_sql.append(counts.sql - sql0)
        submit_redis.append(counts.redis - redis0)
        sql0, redis0, taken0 = counts.sql, counts.redis, counts.checkouts
        ctx = {"job_id": f"bench-{sent.message_id}", "job_try": 1}
        counts.active = counts.listing = True
        c0, w0 = time.thread_time(), time.perf_counter()
        if profile and i >= args.warmup:
            profile.enable()
        await process_message(ctx, str(actor.tenant_id), str(sent.message_id))
        if profile and i >= args.warmup:
            profile.disable()
        cpu.append((time.thread_time() - c0) * 1000)
        counts.active = counts.listing = False
        wall.append((time.perf_counter() - w0) * 1000)
        sql.append(counts.sql - sql0)
        redis.append(counts.redis - redis0)
        checkouts.append(counts.checkouts - taken0)
    records = [json.loads(r) for r in await get_redis().lrange(stages_key(), 0, -1)]  # type: ignore[misc]
    measured = records[: args.turns]  # newest first: the measured turns
    stages = {
        name: latency_summary([float(r.get(name, 0.0)) for r in measured])
        for name in STAGES
    }
    result: dict[str, Any] = {
        "bench": "turn_cpu",
        "machine": machine(),
        "params": {
            "turns": args.turns,
            "model": get_settings().llm_model,
            "embedding_runtime": get_settings().embedding_runtime,
            "command": f"python -m bench.turn_cpu --turns {args.turns}",
        },
        "loop_cpu_ms": latency_summary(cpu),
        "wall_ms": latency_summary(wall),
        # Wall time per stage (app/core/stages.py; exclusive, so they add up).
        "stages": stages,
        "sql_statements_per_turn": round(statistics.mean(sql), 2),
        "redis_commands_per_turn": round(statistics.mean(redis), 2),
        "transactions_per_turn": round(statistics.mean(checkouts), 2),
        "messages_per_s_bound": round(1000 / statistics.median(cpu), 1),
        # What accepting the message costs the process that submits it (the API
        # or the app's backend): its CPU, statements and Redis commands.
        "submit_cpu_ms": latency_summary(submit_cpu),
        "submit_sql_statements": round(statistics.mean(submit_sql), 2),
        "submit_redis_commands": round(statistics.mean(submit_redis), 2),
        # A measurement, not a target: the pipeline bench holds the targets.
        "targets": {},
    }
    print(
        f"loop CPU per turn p50 {result['loop_cpu_ms']['p50_ms']} ms "
        f"(bound {result['messages_per_s_bound']} msg/s); wall p50 "
        f"{result['wall_ms']['p50_ms']} ms; {result['sql_statements_per_turn']:.1f} "
        f"SQL statements in {result['transactions_per_turn']:.1f} transactions, "
        f"{result['redis_commands_per_turn']:.1f} Redis commands"
    )
    print(
        f"submit CPU p50 {result['submit_cpu_ms']['p50_ms']} ms; "
        f"{result['submit_sql_statements']:.1f} SQL statements, "
        f"{result['submit_redis_commands']:.1f} Redis commands"
    )
    print(
        "stages p50 (ms): " + ", ".join(f"{k} {v['p50_ms']}" for k, v in stages.items())
    )
    if args.statements:
        for text, n in sorted(counts.sql_text.items(), key=lambda kv: -kv[1]):
            print(f"{n / args.turns:6.2f}  {text}")
    if profile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("tottime").print_stats(args.profile)
        # Where the project's own code spends it, callees included.
        stats.sort_stats("cumulative").print_stats("/(app|agents|jobs)/", args.profile)
        print(out.getvalue())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.turn_cpu")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", type=int, default=0, help="top N functions")
    parser.add_argument(
        "--statements", action="store_true", help="list the SQL statements"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    os.environ["RECORD_STAGES"] = "1"
    get_settings.cache_clear()
    stop_on_sigterm()
    with throwaway_stack("sb-turn-cpu-"):
        result = run_async(lambda: measure(args))
    print(f"written to {write_result('turn_cpu', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
