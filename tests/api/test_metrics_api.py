"""GET /api/metrics: who may read it (tests/pipeline/test_metrics.py: what it shows)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.core.settings import get_settings
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo

M, H = "maple-court", "harbor-bistro"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def local_client(
    api_app: FastAPI, demo: Any, clean_db: None
) -> AsyncIterator[httpx.AsyncClient]:
    """A caller on the backend's own host (loopback)."""
    transport = httpx.ASGITransport(app=api_app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


@pytest.fixture
def allow_networks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def set_to(value: str) -> None:
        monkeypatch.setenv("METRICS_ALLOW_NETWORKS", value)
        get_settings.cache_clear()

    yield set_to
    get_settings.cache_clear()


def samples(text: str) -> Samples:
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and want <= ls)


async def scrape(c: httpx.AsyncClient) -> Samples:
    r = await c.get("/api/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return samples(r.text)


async def test_metrics_refuse_anonymous_callers_from_outside(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/metrics")
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert "operator" in r.json()["message"]


@pytest.mark.parametrize("who", [(M, "omar"), (M, "dana"), (M, "admin"), (H, "maya")])
async def test_metrics_refuse_tenant_users_even_on_loopback(
    client: httpx.AsyncClient,
    local_client: httpx.AsyncClient,
    demo: Demo,
    who: tuple[str, str],
) -> None:
    headers = auth(demo.user(*who))
    for c in (client, local_client):
        r = await c.get("/api/metrics", headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "forbidden"
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await local_client.get("/api/metrics", headers=forged)).status_code == 403


async def test_metrics_serve_operators_from_anywhere(
    client: httpx.AsyncClient, operator: tuple[Any, str, str]
) -> None:
    r = await client.get("/api/metrics", headers=objects.operator_auth(operator[0]))
    assert r.status_code == 200
    assert "# TYPE switchboard_queue_depth gauge" in r.text


async def test_metrics_serve_the_allowed_network_only(
    client: httpx.AsyncClient, local_client: httpx.AsyncClient, allow_networks: Any
) -> None:
    # Default: loopback only.
    assert (await local_client.get("/api/metrics")).status_code == 200
    assert (await client.get("/api/metrics")).status_code == 403
    # Relayed by a proxy on the same host: who is behind it is unknown.
    relayed = await local_client.get(
        "/api/metrics", headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert relayed.status_code == 403
    # The monitoring network set in settings.
    allow_networks("203.0.113.0/24")
    assert (await client.get("/api/metrics")).status_code == 200
    assert (await local_client.get("/api/metrics")).status_code == 403
    # Operators only.
    allow_networks("")
    assert (await local_client.get("/api/metrics")).status_code == 403


def test_metrics_networks_setting_refuses_garbage(allow_networks: Any) -> None:
    allow_networks("10.0.0.0/8, not-a-network")
    with pytest.raises(ValueError, match="not-a-network"):
        get_settings()
