"""Scale-out on the existing engines: two arq worker processes and two Reflex backend
processes sharing PostgreSQL and Redis, the backends with Reflex's Redis state
manager (REFLEX_REDIS_URL), as the README's production shape has them.

- every message is processed exactly once, whichever worker takes it;
- a tab connected to either backend gets its user's live events (Reflex's own
  socket protocol, spoken by a socket.io client: no browser needed);
- the figures the workers record are visible from either backend's /api/metrics.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from reflex_base.constants.state import FIELD_MARKER
from sqlalchemy import func
from sqlmodel import col, select

from app.core.db import tenant_session
from app.core.redis_client import redis_url
from app.core.settings import PROJECT_ROOT
from app.domain.models import AssistantRun, LlmUsage, Message
from app.services.auth import login
from app.services.messages import submit_message
from app.services.notifications import notify_users
from bench.reflex_tab import ReflexTab, toasts
from state.session import SessionState
from tests.conftest import Demo
from tests.pipeline.conftest import actor_of

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clean_db")]
START_TIMEOUT_S = 150
MESSAGES = 24
PASSWORD = "switchboard-demo"
SESSION_STATE = SessionState.get_full_name()
# Reflex's socket: the path and the socket.io namespace are both /_event.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    # A frontend port (REFLEX_FRONTEND_PORT) makes a backend-only run refuse to start.
    dropped = {"PYTEST_CURRENT_TEST", "REFLEX_FRONTEND_PORT", "FRONTEND_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    tools = str(PROJECT_ROOT / ".tools" / "node_modules" / ".bin")
    env.update(
        PATH=f"{tools}:{env.get('PATH', '')}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


class Processes:
    """Child processes, each in its own process group, logs in one directory."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        with (self.logs / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append((name, proc))

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited: {self.tail(name)}")

    def tail(self, name: str, chars: int = 3000) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        for _name, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def cluster(demo: Demo, tmp_path: Path) -> Iterator[tuple[list[str], Processes]]:
    """Two workers and two backends on this session's PostgreSQL and Redis; the
    backends' base URLs."""
    procs = Processes(tmp_path)
    ports = [_free_port(), _free_port()]
    try:
        for i in range(2):
            # INFO: each turn's log line names its message (who ran what).
            worker_env = _env(LOG_LEVEL="INFO")
            procs.start(f"worker{i}", [sys.executable, "-m", "jobs.worker"], worker_env)
        for i, port in enumerate(ports):
            url = f"http://localhost:{port}"
            env = _env(
                REFLEX_REDIS_URL=redis_url(),
                BACKEND_PORT=str(port),
                API_URL=url,
                PUBLIC_URL=url,
                GRANIAN_WORKERS="1",
            )
            cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod"]
            cmd += ["--backend-only", "--backend-port", str(port)]
            procs.start(f"backend{i}", cmd, env)
        urls = [f"http://localhost:{p}" for p in ports]
        deadline = time.monotonic() + START_TIMEOUT_S
        for url in urls:
            while True:
                procs.check_alive()
                try:
                    if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{url} not up: {procs.tail('backend0')}"
                        f"{procs.tail('backend1')}"
                    )
                time.sleep(0.5)
        yield urls, procs
    finally:
        procs.stop()


def _handler(state: type[Any], name: str) -> str:
    return f"{state.get_full_name()}.{name}"


class Tab(ReflexTab):
    """A tab whose state updates are kept in order, to wait for a text in them."""

    def __init__(self, base: str, token: str = "") -> None:
        super().__init__(base, token=token)
        self.updates: list[dict[str, Any]] = []
        self.on_update = lambda _at, update: self.updates.append(update)

    def seen(self, text: str) -> bool:
        return any(text in str(u) for u in self.updates)

    async def wait_for(self, text: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.seen(text):
            if time.monotonic() > deadline:
                tail = str(self.updates[-3:])[-1500:]
                raise AssertionError(f"{self.base_url} tab never got {text!r}: {tail}")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def signed_in_tab(base: str, slug: str, email: str) -> AsyncIterator[Tab]:
    from state.live import LiveState
    from state.session import SessionState

    tab = Tab(base)
    await tab.open()
    try:
        await tab.send(
            _handler(SessionState, "login"),
            form={"org": slug, "email": email, "password": PASSWORD},
        )
        await tab.wait_for("redirect")  # signed in: sent on to the home page
        await tab.send(_handler(LiveState, "start_live"))
        yield tab
    finally:
        await tab.close()


def _turns_logged(log: str) -> set[uuid.UUID]:
    """The messages whose turn a worker's JSON log says it finished."""
    out = set()
    for line in log.splitlines():
        if line.startswith("{") and '"turn done"' in line:
            entry = json.loads(line)
            if entry.get("outcome") == "done":
                out.add(uuid.UUID(entry["message_id"]))
    return out


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _total(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str
) -> float:
    return sum(v for (n, _labels), v in found.items() if n == name)


async def _count(
    tenant_id: uuid.UUID, model: Any, ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    async with tenant_session(tenant_id) as s:
        rows = (
            await s.exec(
                select(model.message_id, func.count())
                .where(col(model.message_id).in_(ids))
                .group_by(model.message_id)
            )
        ).all()
    return {mid: int(n) for mid, n in rows}


async def test_two_workers_two_backends_each_message_once_live_on_both(
    cluster: tuple[list[str], Processes], demo: Demo
) -> None:
    from state.live import LiveState

    (a_url, b_url), procs = cluster
    maya, sam = demo.user("harbor-bistro", "maya"), demo.user("harbor-bistro", "sam")
    omar = demo.user("maple-court", "omar")
    before = _samples(httpx.get(f"{b_url}/api/metrics").text)
    async with (
        signed_in_tab(a_url, "harbor-bistro", maya.email) as maya_tab,
        signed_in_tab(b_url, "harbor-bistro", sam.email) as sam_tab,
        signed_in_tab(b_url, "maple-court", omar.email) as omar_tab,
    ):
        # Each tab's listener is subscribed on its own backend.
        await asyncio.sleep(1.0)
        senders = [maya, sam, omar]
        sent: dict[uuid.UUID, list[uuid.UUID]] = {}
        for i in range(MESSAGES):
            who = senders[i % len(senders)]
            body = f"Note {i}: the walk-in fridge reads {i % 7} degrees."
            out = await submit_message(actor_of(who), body, uuid.uuid4().hex)
            sent.setdefault(who.tenant_id, []).append(out.message_id)
        # Live events reach each tab on its own backend: the assistant's replies
        # reload the chat, whose delta carries the reply text.
        for tab in (maya_tab, sam_tab, omar_tab):
            await tab.wait_for("Note ", timeout_s=90)

        # Exactly once: one run, one usage row, one reply per message.
        deadline = time.monotonic() + 90
        while True:
            done = 0
            for tid, ids in sent.items():
                async with tenant_session(tid) as s:
                    done += (
                        await s.exec(
                            select(func.count())
                            .select_from(Message)
                            .where(col(Message.id).in_(ids), Message.status == "done")
                        )
                    ).one()
            if done == MESSAGES or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert done == MESSAGES
        for tid, ids in sent.items():
            assert await _count(tid, AssistantRun, ids) == dict.fromkeys(ids, 1)
            assert await _count(tid, LlmUsage, ids) == dict.fromkeys(ids, 1)
            async with tenant_session(tid) as s:
                replies = (
                    await s.exec(
                        select(Message.reply_to_id, func.count())
                        .where(col(Message.reply_to_id).in_(ids))
                        .group_by(col(Message.reply_to_id))
                    )
                ).all()
            assert dict(replies) == dict.fromkeys(ids, 1)

        # Both workers took a share, and no message was run by both.
        ran = [_turns_logged(procs.tail(f"worker{i}", 10**7)) for i in range(2)]
        every = {m for ids in sent.values() for m in ids}
        assert ran[0] and ran[1], "one worker did all the work"
        assert not ran[0] & ran[1]
        assert ran[0] | ran[1] == every

        # The workers' figures, from either backend; the open tabs of both. A
        # worker sends its turns' figures a moment after they end: wait for them.
        for url in (a_url, b_url):
            for _ in range(50):
                found = _samples(httpx.get(f"{url}/api/metrics").text)
                turns = _total(found, "switchboard_turns_total")
                if turns - _total(before, "switchboard_turns_total") >= MESSAGES:
                    break
                await asyncio.sleep(0.1)
            assert turns - _total(before, "switchboard_turns_total") >= MESSAGES
            assert _total(found, "switchboard_workers_alive") >= 2
        found = _samples(httpx.get(f"{a_url}/api/metrics").text)
        assert _total(found, "switchboard_live_connections") >= 3
        assert _total(found, "switchboard_live_backends") >= 2

    # The proxy sends Maya's reconnecting tab to the other backend: her session is
    # in Redis (Reflex's state manager), so she is still signed in there and her
    # live events follow her, with no second login.
    moved = Tab(b_url, token=maya_tab.token)
    await moved.open()
    try:
        await moved.send(_handler(LiveState, "start_live"))
        await asyncio.sleep(1.0)
        body = "Moved tab: the bar's ice machine is leaking."
        out = await submit_message(actor_of(maya), body, uuid.uuid4().hex)
        await moved.wait_for("ice machine is leaking", timeout_s=90)
        assert not moved.seen("/login"), "the moved tab was sent to sign in"
    finally:
        await moved.close()
    async with tenant_session(maya.tenant_id) as s:
        assert (await s.get(Message, (maya.tenant_id, out.message_id))) is not None

    # A tab opened the way the frontend boots one (bench/reflex_tab.py: the refresh
    # token from localStorage in the connect packet's hydrate_and_load, the page's
    # on_load starting the listener), with the state manager in Redis: a
    # notification reaches it live, as a badge delta and a toast in one update
    # (state/one_update.py).
    luis = demo.user("harbor-bistro", "luis")
    pair = await login("harbor-bistro", luis.email, PASSWORD, "127.0.0.1")
    booted = ReflexTab(b_url, pair.refresh_token, "/")
    seen: list[str] = []
    badges: list[str] = []  # the delta beside each toast

    def on_update(_at: float, update: dict[str, Any]) -> None:
        for call in toasts(update):
            seen.append(call)
            badges.append(str(update.get("delta", {}).get(SESSION_STATE, {})))

    booted.on_update = on_update
    await booted.open()
    try:
        for _ in range(100):
            if booted.hydrated:
                break
            await asyncio.sleep(0.1)
        assert booted.hydrated, "the booted tab never finished its hydrate"
        await asyncio.sleep(1.0)  # its listener has started
        title = f"Booted tab check {uuid.uuid4().hex[:6]}"
        async with tenant_session(luis.tenant_id) as s:
            await notify_users(
                s,
                luis.tenant_id,
                [luis.id],
                kind="notify",
                title=title,
                body="",
                dedupe_key=f"t:{title}",
            )
        for _ in range(100):
            if any(title in call for call in seen):
                break
            await asyncio.sleep(0.1)
        assert any(title in call for call in seen), seen[-3:]
        assert f"unread{FIELD_MARKER}" in badges[-1], badges[-1]
    finally:
        await booted.close()
