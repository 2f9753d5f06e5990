"""`make run` from nothing: the stack starts in a fresh data dir, /api/health answers
200, the home page is served, and Ctrl-C (SIGINT to the process group, as a terminal
sends it) stops every process it started."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from app.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_with_env(marker: str) -> list[int]:
    """Pids whose environment mentions `marker` (our unique DATA_DIR)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in env or marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _wait_for(url: str, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200:
                return r
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"{url} did not answer 200 in {timeout}s ({last})")


def _check_api_edges(api: str, page_origin: str) -> None:
    """What the in-process tests check, through the real Reflex backend: /api
    answers JSON 404/405, and CORS only answers the app's own origin."""
    missing = httpx.get(f"{api}/api/v1/does-not-exist")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = httpx.delete(f"{api}/api/v1/auth/login")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"
    acao = "access-control-allow-origin"
    for origin in ("https://evil.example", "null"):
        assert (
            acao
            not in httpx.get(f"{api}/api/health", headers={"Origin": origin}).headers
        )
        pre = httpx.options(
            f"{api}/api/v1/auth/me",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert acao not in pre.headers
    own = httpx.get(f"{api}/api/health", headers={"Origin": page_origin})
    assert own.headers[acao] == page_origin


def test_make_run_starts_and_stops_cleanly() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="sb-smoke-"))
    os.chmod(data_dir, 0o755)
    front, back = _free_port(), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "APP_DATABASE_URL", "APP_ENV"}
    }
    env.update(
        DATA_DIR=str(data_dir),
        FRONTEND_PORT=str(front),
        BACKEND_PORT=str(back),
        PUBLIC_URL=f"http://localhost:{front}",
        API_URL=f"http://localhost:{back}",
    )
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        health = _wait_for(f"http://localhost:{back}/api/health", timeout=300)
        assert health.json()["status"] == "ok"
        _check_api_edges(f"http://localhost:{back}", f"http://localhost:{front}")
        home = _wait_for(f"http://localhost:{front}/", timeout=120)
        assert "<html" in home.text.lower()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    text = output.decode(errors="replace")
    assert "Switchboard is running" in text
    assert "switchboard-demo" in text  # the demo logins are printed

    deadline = time.monotonic() + 30
    while _processes_with_env(str(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with_env(str(data_dir)) == [], "orphan processes left behind"
    for port in (front, back):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    shutil.rmtree(data_dir, ignore_errors=True)
