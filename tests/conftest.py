"""Test fixtures: one real PostgreSQL (pgvector) and one real Redis for the session.

Both are the embedded servers in a fresh temporary data dir, migrated from empty and
loaded with the demo organisations, unless TEST_DATABASE_URL / TEST_REDIS_URL point
at servers made for tests. DATABASE_URL / REDIS_URL from the developer's shell are
ignored on purpose: tests truncate tables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, pool, text
from sqlmodel import select

for _var in ("DATABASE_URL", "REDIS_URL", "APP_DATABASE_URL", "LLM_MODEL"):
    os.environ.pop(_var, None)
if os.environ.get("TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
if os.environ.get("TEST_REDIS_URL"):
    os.environ["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
os.environ["APP_ENV"] = "test"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# The embedded server runs as its own system user when we are root: the data dir's
# parents must be traversable, which pytest's 0700 tmp dirs are not.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="sb-test-"))
os.chmod(_DATA_DIR, 0o755)
os.environ["DATA_DIR"] = str(_DATA_DIR)

from app.core.settings import get_settings  # noqa: E402

get_settings.cache_clear()

# Tables the tests may fill; truncated by `clean_db`. Demo people/places stay.
MUTABLE_TABLES = (
    "notifications",
    "approvals",
    "proposed_actions",
    "assistant_runs",
    "tasks",
    "service_logs",
    "llm_usage",
    "llm_usage_months",
    "audit_events",
    "push_deliveries",
    "push_subscriptions",
    "refresh_tokens",
    "api_keys",
    "messages",
    "conversations",
)


CHROMIUM = Path("/usr/bin/chromium")


def _ensure_chromium() -> str | None:
    """None when Debian's Chromium is there (installed now if we are root, as
    .ci/run does); otherwise what to tell the user."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        ):
            subprocess.run(cmd, env=env, check=False, capture_output=True)
        if CHROMIUM.exists():
            return None
    return (
        "The browser tests need Debian's Chromium at /usr/bin/chromium.\n"
        "  Install it:  sudo apt-get install chromium\n"
        "  Or skip them:  make test PYTEST_ARGS='-m \"not e2e\"'"
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    # Stop before the first test rather than erroring halfway through the run.
    if any(item.get_closest_marker("e2e") for item in items):
        problem = _ensure_chromium()
        if problem:
            pytest.exit(problem, returncode=4)


@pytest.fixture(scope="session")
def stack() -> Iterator[None]:
    from app.core.embedded import stack_services
    from app.core.migrate import upgrade

    with stack_services():
        upgrade()
        yield
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def owner_engine(stack: None) -> Iterator[Any]:
    from app.core.db import owner_url

    engine = create_engine(owner_url(), poolclass=pool.NullPool)
    yield engine
    engine.dispose()


@dataclass
class Demo:
    """Named demo tenants and users: demo.tenant('maple-court'), demo.user(...)"""

    tenants: dict[str, Any]
    users: dict[tuple[str, str], Any]
    teams: dict[tuple[str, str], Any]
    properties: dict[tuple[str, str], Any]

    def tenant(self, slug: str) -> Any:
        return self.tenants[slug]

    def user(self, slug: str, handle: str) -> Any:
        return self.users[(slug, handle)]

    def team(self, slug: str, team: str) -> Any:
        return self.teams[(slug, team)]

    def property(self, slug: str, prop: str) -> Any:
        return self.properties[(slug, prop)]


@pytest.fixture(scope="session")
async def demo(stack: None) -> AsyncIterator[Demo]:
    from app.core.db import dispose_engines, platform_session, tenant_session
    from app.domain.models import Property, Team, Tenant, User
    from app.services.seed import seed_demo

    await seed_demo()
    tenants: dict[str, Any] = {}
    users: dict[tuple[str, str], Any] = {}
    teams: dict[tuple[str, str], Any] = {}
    props: dict[tuple[str, str], Any] = {}
    async with platform_session() as ps:
        for t in (await ps.exec(select(Tenant))).all():
            tenants[t.slug] = t
    for slug, t in tenants.items():
        async with tenant_session(t.id) as s:
            for u in (await s.exec(select(User))).all():
                users[(slug, u.handle)] = u
            for tm in (await s.exec(select(Team))).all():
                teams[(slug, tm.slug)] = tm
            for p in (await s.exec(select(Property))).all():
                props[(slug, p.slug)] = p
    yield Demo(tenants, users, teams, props)
    await dispose_engines()


@pytest.fixture
def long_rate_window(monkeypatch: pytest.MonkeyPatch) -> int:
    """A rate-limit window of an hour: a loaded machine can take more than a minute
    for the dozens of argon2 logins a limit test counts up to, and a window that
    resets midway makes the test flaky. The buckets are cleared before each test."""
    monkeypatch.setattr(get_settings(), "rate_limit_window_s", 3600)
    return 3600


@pytest.fixture
def clean_db(owner_engine: Any) -> Iterator[None]:
    """Empty the tables tests write to (as the owner: TRUNCATE is not row-level)."""
    with owner_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(MUTABLE_TABLES)} CASCADE"))
        # Memories learnt from earlier tests' messages; the seeded ones stay.
        conn.execute(text("DELETE FROM memories WHERE source_type <> 'seed'"))
    yield


def unique_id() -> str:
    return uuid.uuid4().hex


# Names the tests use as push services, with the addresses a resolver would return
# (the tests run offline); every other name goes to the real getaddrinfo, so
# numeric forms such as 2130706433 or [::1] are resolved as in production.
PUBLIC_PUSH_ADDRESS = "142.250.185.74"
TEST_DNS = {
    "fcm.googleapis.com": [PUBLIC_PUSH_ADDRESS],
    "push.example.net": [PUBLIC_PUSH_ADDRESS],
    "updates.push.services.mozilla.com": ["2600:1901:0:92a9::"],
    "private.push.test": ["10.0.0.5"],
    "mixed.push.test": [PUBLIC_PUSH_ADDRESS, "127.0.0.1"],
    "metadata.push.test": ["169.254.169.254"],
    "v6loop.push.test": ["::1"],
}


def offline_resolver(host: str, port: int) -> list[str]:
    from app.core.netguard import system_resolver

    return TEST_DNS.get(host.lower()) or system_resolver(host, port)


@pytest.fixture(autouse=True)
def offline_dns() -> Iterator[None]:
    from app.core.netguard import resolving_with

    with resolving_with(offline_resolver):
        yield


# Fixtures shared by the plan-limit tests of tests/console and tests/api.
from tests.plans import plan_op, plan_org  # noqa: E402, F401
