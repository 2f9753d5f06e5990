"""PostgreSQL restarted under load: messages keep arriving through the API while the
database stops for a few seconds and starts again. The real worker process and the
API (served in this process) reconnect by themselves; every message ends done, once;
while the database is down the API answers a 503 JSON at once, never a hang or a
500, and a client that retries the same client id gets one message.

The database is the session's throwaway embedded server (`postgres` fixture), not
the machine's. `make soak` restarts it several times.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.api import create_api
from app.core.settings import get_settings
from tests.api.objects import auth
from tests.auth.conftest import clear_rate_limits
from tests.reliability.conftest import PostgresControl, WorkerLauncher, trials
from tests.reliability.ledger import tally

pytestmark = [pytest.mark.reliability, pytest.mark.usefixtures("clean_db")]

# (tenant, sender, text): most make the offline model act (rows, notifications).
REQUESTS = [
    ("maple-court", "ben", "My kitchen sink is leaking under the cabinet."),
    ("harbor-bistro", "luis", "Tell Sam that the fryer is making a strange noise."),
    ("maple-court", "grace", "Finished cleaning the hallways at Maple Court."),
    ("riverside-lofts", "rita", "Let Ben know his parcel arrived at the desk."),
    ("harbor-bistro", "maya", "What time does the kitchen close tonight?"),
]
SEND_EVERY_S = 0.5  # a new message (a new client id) this often
RETRY_EVERY_S = 0.25  # a client retrying the same client id after a 503
BEFORE_S = 2.0  # messages flowing (and turns running) before the stop
DOWN_S = 4.0  # from the stop having completed to the start
AFTER_S = 2.0
# A socket that is gone fails at once and the engine's connect_timeout is 5 s, so
# the typical 503 comes within QUICK_S even on a busy machine; none may come near
# the 30 s a request waiting on the pool or on a dead server would hang.
QUICK_S = 5.0
HANG_S = 15.0
# A turn cut by the stop is retried with backoff (2, 4, 8 s...); a job lost with it
# is re-queued by the sweeper (every 15 s, after SWEEPER_STUCK_AFTER_S = 30 s).
SETTLE_S = 180.0


@dataclass
class Submission:
    client_id: str
    user: Any
    body: str
    message_id: str | None = None
    tries: int = 0
    sent_at: float = field(default_factory=time.monotonic)


@dataclass
class Answers:
    unavailable: list[float] = field(default_factory=list)  # seconds, each 503
    accepted: list[float] = field(default_factory=list)
    other: list[tuple[int, str]] = field(default_factory=list)  # anything else
    hangs: int = 0


async def _submit_until_accepted(
    client: httpx.AsyncClient, sub: Submission, answers: Answers, until: float
) -> None:
    """A client that retries the same client id until the message is accepted."""
    while time.monotonic() < until:
        sub.tries += 1
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(
                client.post(
                    "/api/v1/messages",
                    json={"body": sub.body, "client_message_id": sub.client_id},
                    headers=auth(sub.user),
                ),
                timeout=30,
            )
        except TimeoutError:
            answers.hangs += 1
            continue
        elapsed = time.monotonic() - started
        if response.status_code == 202:
            sub.message_id = str(response.json()["message_id"])
            answers.accepted.append(elapsed)
            return
        if (
            response.status_code == 503
            and response.json().get("error") == "unavailable"
            and response.headers.get("Retry-After")
        ):
            answers.unavailable.append(elapsed)
        else:
            answers.other.append((response.status_code, response.text[:200]))
        await asyncio.sleep(RETRY_EVERY_S)


async def _wait_done(owner_engine: Any, ids: list[str], timeout_s: float) -> float:
    started = time.monotonic()
    sql = text(
        "SELECT count(*) FROM messages WHERE id = ANY(CAST(:ids AS uuid[]))"
        " AND status NOT IN ('done', 'failed')"
    )
    while time.monotonic() - started < timeout_s:
        with owner_engine.connect() as conn:
            if not conn.execute(sql, {"ids": ids}).scalar():
                break
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_postgres_restarted_under_load(
    demo: Any,
    owner_engine: Any,
    workers: WorkerLauncher,
    postgres: PostgresControl,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restarts = min(trials(1), 5)
    # Retries during the outage count against the per-user message limit.
    monkeypatch.setattr(get_settings(), "message_rate_per_minute", 100_000)
    await clear_rate_limits()
    pid = workers.start()
    subs: list[Submission] = []
    senders: list[asyncio.Task[None]] = []
    answers = Answers()
    outages: list[tuple[float, float]] = []
    started = time.monotonic()
    transport = httpx.ASGITransport(app=create_api(), client=("203.0.113.60", 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as client:
        feeding = True

        async def feed() -> None:
            i = 0
            while feeding:
                tenant, handle, body = REQUESTS[i % len(REQUESTS)]
                sub = Submission(uuid.uuid4().hex, demo.user(tenant, handle), body)
                subs.append(sub)
                until = time.monotonic() + 60
                senders.append(
                    asyncio.create_task(
                        _submit_until_accepted(client, sub, answers, until)
                    )
                )
                i += 1
                await asyncio.sleep(SEND_EVERY_S)

        feeder = asyncio.create_task(feed())
        for _ in range(restarts):
            await asyncio.sleep(BEFORE_S)
            down_from = time.monotonic()
            # In a thread: the API and the clients keep running meanwhile.
            await asyncio.to_thread(postgres.stop)
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(postgres.start)
            outages.append((down_from, time.monotonic()))
        await asyncio.sleep(AFTER_S)
        feeding = False
        await feeder
        await asyncio.gather(*senders)
    ids = [s.message_id for s in subs if s.message_id]
    settled_in = await _wait_done(owner_engine, ids, SETTLE_S)
    counted = tally(owner_engine, [uuid.UUID(i) for i in ids])
    with owner_engine.connect() as conn:
        rows = int(
            conn.execute(
                text("SELECT count(*) FROM messages WHERE client_message_id = ANY(:c)"),
                {"c": [s.client_id for s in subs]},
            ).scalar()
            or 0
        )
    # Sent once the database was back: accepted at the first try (the pools
    # replaced their dead connections without an error reaching anyone).
    after = [s for s in subs if s.sent_at > outages[-1][1]]
    worst = max(answers.unavailable, default=0.0)
    typical = statistics.median(answers.unavailable or [0.0])
    print(
        f"\nreliability postgres-restart: restarts={restarts} down "
        f"{', '.join(f'{b - a:.1f}' for a, b in outages)} s, "
        f"messages={len(subs)} accepted={len(ids)} rows={rows} "
        f"tries={sum(s.tries for s in subs)} 503s={len(answers.unavailable)} "
        f"(median {typical:.2f} s, max {worst:.2f} s; accepted: median "
        f"{statistics.median(answers.accepted or [0]):.2f} s, max "
        f"{max(answers.accepted, default=0):.2f} s) other={answers.other[:3]} "
        f"hangs={answers.hangs}; "
        f"all settled {settled_in:.1f} s after the last submit; "
        f"worker restarted: {not workers.alive(pid)}; "
        f"total {time.monotonic() - started:.0f} s: {counted.line()}"
    )
    assert answers.unavailable, "the outage was never seen: the test proves nothing"
    assert answers.other == [] and answers.hangs == 0
    assert typical < QUICK_S and worst < HANG_S
    assert len(ids) == len(subs) == rows  # every client id: one message, accepted
    assert after and all(s.tries == 1 for s in after), [s.tries for s in after]
    assert workers.alive(pid), "the worker had to be restarted"
    assert counted.lost == 0, counted.line()
    assert counted.duplicated == 0, counted.line()
