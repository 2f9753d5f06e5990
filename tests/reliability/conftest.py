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
