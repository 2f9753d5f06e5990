"""/api always answers in the JSON error shape: 404 for a path no route has, 405
(with Allow) for a known path and the wrong method, alone and mounted in Reflex."""

from __future__ import annotations

import httpx
import pytest

VIAS = ["api", "reflex"]


def _assert_error(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error", "message"} and body["error"] == code


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/does-not-exist"),
        ("POST", "/api/v1/does-not-exist"),
        ("GET", "/api/v2/messages"),
        ("GET", "/api"),
        ("GET", "/api/"),
        ("DELETE", "/api/v1/tasks/not-a-route/at/all"),
    ],
)
async def test_unknown_api_path_is_json_404(
    client: httpx.AsyncClient,
    reflex_client: httpx.AsyncClient,
    via: str,
    method: str,
    path: str,
) -> None:
    http = client if via == "api" else reflex_client
    _assert_error(await http.request(method, path), 404, "not_found")


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/auth/login", "POST"),
        ("GET", "/api/v1/auth/login", "POST"),
        ("PUT", "/api/health", "GET"),
    ],
)
async def test_wrong_method_is_json_405_with_allow(
    client: httpx.AsyncClient,
    reflex_client: httpx.AsyncClient,
    via: str,
    method: str,
    path: str,
    allowed: str,
) -> None:
    http = client if via == "api" else reflex_client
    resp = await http.request(method, path)
    _assert_error(resp, 405, "method_not_allowed")
    assert allowed in resp.headers["allow"].split(", ")


async def test_known_routes_still_answer(reflex_client: httpx.AsyncClient) -> None:
    resp = await reflex_client.post("/api/v1/auth/login", json={})
    _assert_error(resp, 422, "invalid_request")
    assert (await reflex_client.get("/api/openapi.json")).status_code == 200
    # Outside /api, Reflex's own routes are untouched.
    assert (await reflex_client.get("/not-api")).status_code == 404
