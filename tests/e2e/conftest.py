"""Browser tests against the whole stack as `python -m app.cli run --env prod`
starts it (embedded PostgreSQL and Redis in a fresh data dir, migrations, demo data,
worker, Reflex app), driven by Playwright in Debian's Chromium.

One app for the whole e2e session (the production build takes a while); each test
opens its own browser contexts, which are separate "devices".
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.settings import PROJECT_ROOT
from tests.conftest import CHROMIUM
from tests.e2e.fake_llm import FakeLLM, running_fake_llm

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "switchboard-demo"
START_TIMEOUT_S = 420


@dataclass
class RunningApp:
    url: str
    data_dir: Path
    log_path: Path

    def run_python(self, code: str, timeout: float = 120) -> str:
        """Run `code` in a separate Python process attached to this app's own
        database and Redis (same data dir): how a test plays the worker's part."""
        env = {**_base_env(), "DATA_DIR": str(self.data_dir)}
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def cli(self, *args: str, timeout: float = 120) -> str:
        """`python -m app.cli <args>` on this app's data dir."""
        env = {**_base_env(), "DATA_DIR": str(self.data_dir)}
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "APP_DATABASE_URL",
            "APP_ENV",
            "DATA_DIR",
            "PYTEST_CURRENT_TEST",
        }
    }
    tools = str(PROJECT_ROOT / ".tools" / "node_modules" / ".bin")
    env.update(
        PATH=f"{tools}:{env.get('PATH', '')}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    return env


def _wait_for(url: str, deadline: float, proc: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer 200 in time")


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    """The external model provider an organisation may choose (fake_llm.py)."""
    with running_fake_llm() as fake:
        yield fake


@pytest.fixture(scope="session")
def app_server(fake_llm: FakeLLM) -> Iterator[RunningApp]:
    data_dir = Path(tempfile.mkdtemp(prefix="sb-e2e-"))
    os.chmod(data_dir, 0o755)
    # Production mode serves the pages and the backend on one port.
    port = _free_port()
    url = f"http://localhost:{port}"
    env = {
        **_base_env(),
        "DATA_DIR": str(data_dir),
        "FRONTEND_PORT": str(port),
        "BACKEND_PORT": str(port),
        "PUBLIC_URL": url,
        "API_URL": url,
        # Only organisations that choose an external model reach it.
        "LLM_API_BASE": fake_llm.url,
        "LLM_API_KEY": "sk-e2e-fake",
    }
    log_path = data_dir / "app.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--env", "prod"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningApp(url, data_dir, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        _wait_for(f"{url}/api/health", deadline, proc)
        _wait_for(f"{url}/", deadline, proc)
        yield running
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- app log ---\n{running.log_tail()}") from exc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C: stops every process
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """One Playwright driver per test module (sync API; stopped before any other
    module's asyncio tests run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def at(base: str, path: str) -> re.Pattern[str]:
    """The URL of a page, with or without the trailing slash the production build
    adds ("/alerts/")."""
    path = path.rstrip("/")
    return re.compile(re.escape(base + path) + "/?$")


def sign_in(page: Any, base: str, slug: str, email: str, landing: str = "/") -> None:
    """Sign in and wait for the role's home page (admins land on /admin)."""
    page.goto(f"{base}/login")
    page.fill("input[name=org]", slug)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(at(base, landing), timeout=30_000)


ARTIFACTS = PROJECT_ROOT / "artifacts" / "screenshots"
SCREEN_SIZES = {"phone": (390, 844), "desktop": (1440, 900)}


def screenshots(page: Any, name: str, full_page: bool = True) -> list[Path]:
    """Screenshots of the page as it is now (the whole page, or only what is in
    view with `full_page=False`), at phone and desktop width,
    under the git-ignored artifacts/screenshots/ (for people to look at; the test does
    not compare pixels). The viewport is restored afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    paths = []
    for label, (width, height) in SCREEN_SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # layout settles
        path = ARTIFACTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=full_page)
        paths.append(path)
    if before:
        page.set_viewport_size(before)
    return paths


# axe-core findings that fail a test.
FAILING_IMPACTS = {"serious", "critical"}


def serious(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """axe's findings, one rule a paragraph, with the offending elements."""
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:6]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"      {' '.join(map(str, node['target']))}: {summary}")
        if len(v["nodes"]) > 6:
            lines.append(f"      … and {len(v['nodes']) - 6} more")
    return "\n".join(lines)
