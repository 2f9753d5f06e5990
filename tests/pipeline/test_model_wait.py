"""While a turn waits for the model it holds no database connection, so one worker
process can keep many turns waiting on a slow provider with a small pool."""

from __future__ import annotations

import asyncio
import contextvars
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
import pytest
from sqlalchemy import event, text

from app.core.db import app_engine, dispose_engines
from app.core.settings import get_settings
from app.services.messages import submit_message
from tests.pipeline.conftest import ScriptedModel, actor_of, wait_done

pytestmark = pytest.mark.usefixtures("clean_db")
ANSWER = json.dumps({"reply": "Noted.", "actions": []})


# The message whose turn is running (set around the job's turn; the pool's events
# and the model call see it: both run in the turn's context).
TURN: contextvars.ContextVar[str | None] = contextvars.ContextVar("turn", default=None)


class Checkouts:
    """Which turn holds which PostgreSQL backend, from the pool's events."""

    def __init__(self) -> None:
        self.held: dict[int, str | None] = {}
        self.used: dict[str | None, set[int]] = {}
        self.count: dict[int, int] = {}  # checkouts per backend

    def checkout(self, dbapi_conn: Any, record: Any, proxy: Any) -> None:
        pid = int(record.driver_connection.info.backend_pid)
        turn = TURN.get()
        self.held[pid] = turn
        self.used.setdefault(turn, set()).add(pid)
        self.count[pid] = self.count.get(pid, 0) + 1

    def checkin(self, dbapi_conn: Any, record: Any) -> None:
        if record.driver_connection is not None:
            self.held.pop(int(record.driver_connection.info.backend_pid), None)


@pytest.fixture
def checkouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checkouts]:
    import jobs.tasks
    from app.services.turns import handle_message as real

    async def marked(
        tenant_id: uuid.UUID, message_id: uuid.UUID, *, behind: bool = False
    ) -> str:
        TURN.set(str(message_id))
        return await real(tenant_id, message_id, behind=behind)

    monkeypatch.setattr(jobs.tasks, "handle_message", marked)
    pool = app_engine().sync_engine.pool
    seen = Checkouts()
    event.listen(pool, "checkout", seen.checkout)
    event.listen(pool, "checkin", seen.checkin)
    yield seen
    event.remove(pool, "checkout", seen.checkout)
    event.remove(pool, "checkin", seen.checkin)


def _states(owner_engine: Any, pids: list[int]) -> dict[int, str]:
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid, state FROM pg_stat_activity WHERE pid = ANY(:pids)"),
            {"pids": pids},
        ).all()
    return {int(pid): str(state) for pid, state in rows}


async def test_no_connection_is_held_while_the_model_answers(
    demo: Any,
    worker: Any,
    scripted_model: ScriptedModel,
    checkouts: Checkouts,
    owner_engine: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripted_model.say(ANSWER)
    scripted = litellm.acompletion
    during: dict[str, Any] = {}

    async def slow_model(**kwargs: Any) -> Any:
        turn = TURN.get()
        used = sorted(checkouts.used.get(turn, set())) if turn else []
        mine = [pid for pid, t in checkouts.held.items() if turn and t == turn]
        # The backends this turn used and nobody holds: what PostgreSQL says
        # about them (a transaction left open shows as "idle in transaction").
        # Those another task (the test's polling) took meanwhile do not count.
        before = {p: checkouts.count[p] for p in used if p not in checkouts.held}
        states = await asyncio.to_thread(_states, owner_engine, list(before))
        during.update(
            used=used,
            held=mine,
            states={
                p: state
                for p, state in states.items()
                if p not in checkouts.held and checkouts.count[p] == before[p]
            },
        )
        await asyncio.sleep(0.3)  # a slow provider
        return await scripted(**kwargs)

    monkeypatch.setattr(litellm, "acompletion", slow_model)
    maya = demo.user("harbor-bistro", "maya")
    sent = await submit_message(
        actor_of(maya), "Is the fish delivery still on for tomorrow?", uuid.uuid4().hex
    )
    msg = await wait_done(maya.tenant_id, sent.message_id)
    assert msg.status == "done"
    # The turn read the database before the model call (claim, retrieval)...
    assert during["used"], "the turn's connections were not seen"
    # ...and none of those connections is checked out or in a transaction now.
    assert during["held"] == []
    assert set(during["states"].values()) <= {"idle"}, during["states"]


@pytest.fixture
async def small_pool() -> AsyncIterator[None]:
    """A pool of 2 (+2 overflow) connections and room for many turns at once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DB_POOL_SIZE", "2")
        mp.setenv("WORKER_MAX_JOBS", "50")
        mp.setenv("TENANT_MAX_CONCURRENCY", "20")
        get_settings.cache_clear()
        await dispose_engines()
        yield
    get_settings.cache_clear()
    await dispose_engines()


async def test_more_turns_wait_on_the_model_than_the_pool_has_connections(
    demo: Any,
    scripted_model: ScriptedModel,
    small_pool: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jobs.worker import running_worker

    n = 12  # three times the pool's connections
    scripted_model.say(*[ANSWER] * n)
    scripted = litellm.acompletion
    waiting = 0
    peak = 0
    all_in = asyncio.Event()

    async def gated_model(**kwargs: Any) -> Any:
        nonlocal waiting, peak
        waiting += 1
        peak = max(peak, waiting)
        if waiting >= n:
            all_in.set()
        try:
            # Every turn waits here until all of them are waiting at once.
            await asyncio.wait_for(all_in.wait(), 20)
        finally:
            waiting -= 1
        return await scripted(**kwargs)

    monkeypatch.setattr(litellm, "acompletion", gated_model)
    senders = [
        demo.user("harbor-bistro", "maya"),
        demo.user("maple-court", "dana"),
        demo.user("riverside-lofts", "rita"),
    ] * (n // 3)
    async with running_worker():
        sent = [
            await submit_message(
                actor_of(u), f"Note {i} for the team, nothing urgent.", uuid.uuid4().hex
            )
            for i, u in enumerate(senders)
        ]
        for s, u in zip(sent, senders, strict=True):
            await wait_done(u.tenant_id, s.message_id)
    assert peak == n
    assert app_engine().pool.size() == 2  # type: ignore[attr-defined]
