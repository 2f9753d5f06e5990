"""Schemathesis against the OpenAPI document: generated requests (valid and invalid)
to every operation, signed in as a demo manager. No 5xx, and responses (status,
content type, headers, body) match what the schema declares.

The app runs in its own granian process on a free port against the session's
PostgreSQL and Redis: its engines and event loop stay apart from the tests'.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from app.core.settings import PROJECT_ROOT
from app.core.tokens import issue_access_token
from app.domain.actor import Actor
from app.services import api_keys
from tests.conftest import Demo

MAX_EXAMPLES = 12
# Schema-valid input still refused with 422 by the domain layer, for rules JSON
# Schema does not express: a blank message, a push endpoint on a private host,
# an email without a domain, a slug with capitals, a whitespace-only name...
SEMANTIC_422 = [
    ("POST", "/api/v1/messages"),
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/push/subscriptions"),
    ("POST", "/api/v1/admin/users"),
    ("POST", "/api/v1/admin/api-keys"),
    ("POST", "/api/v1/operator/tenants"),
]
ACCEPTED = ["2xx", "3xx", 401, 403, 404, 409, 429]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def api_server(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log_path = Path(tmp_path_factory.mktemp("fuzz")) / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",  # the ASGI server Reflex runs the backend on
            "--interface",
            "asgi",
            "--factory",
            "--workers",
            "1",
            "--no-ws",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "app.api:create_api",
        ],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),  # DATABASE_URL, REDIS_URL, DATA_DIR of the test stack
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/api/openapi.json", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"API did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        # Unexpected errors are logged with a trace by the catch-all handler.
        server_log = log_path.read_text()
        assert "unhandled error" not in server_log, server_log[-5000:]


@pytest.fixture(scope="module")
async def credentials(demo: Demo) -> dict[str, str]:
    """A demo manager's bearer token, and an integration key of the same tenant
    (for POST /api/v1/events)."""
    maya = demo.user("harbor-bistro", "maya")
    token, _ = issue_access_token(maya.tenant_id, maya.id, maya.role, ttl_s=3600)
    admin = demo.user("harbor-bistro", "admin")
    created = await api_keys.create_api_key(
        Actor(admin.tenant_id, admin.id, admin.role), "fuzz"
    )
    return {"Authorization": f"Bearer {token}", "X-API-Key": created.plaintext}


def _schema() -> Any:
    from app.api import create_api

    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "max-examples": MAX_EXAMPLES,
                # Credentials are sent by the test (a manager's token and an API
                # key); missing/bad credentials are covered in test_auth_api.py.
                "with-security-parameters": False,
                # Unknown query parameters are ignored, as HTTP APIs commonly do.
                "allow-extra-parameters": False,
            },
            # Examples + fuzzing (valid and invalid data); the coverage and
            # stateful phases multiply the run time several times over.
            "phases": {
                "coverage": {"enabled": False},
                "stateful": {"enabled": False},
            },
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*ACCEPTED, 422]
                        }
                    },
                }
                for method, path in SEMANTIC_422
            ],
        }
    )
    # The document the app serves, built in-process at collection time (no
    # database needed); requests go over HTTP to the server fixture.
    loaded = schemathesis.openapi.from_dict(create_api().openapi(), config=config)
    # /api/health answers 503 by design while the worker is down (it is here).
    return loaded.exclude(path="/api/health")


schema = _schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_schema(
    case: schemathesis.Case, api_server: str, credentials: dict[str, str]
) -> None:
    case.call_and_validate(base_url=api_server, headers=credentials)
