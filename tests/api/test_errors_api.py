"""Error shape, validation, body limits, the catch-all 500 and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.api import create_api
from app.core.settings import get_settings
from tests.api.objects import auth
from tests.conftest import Demo


def _assert_error(resp: httpx.Response, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "message"} and body["error"] == code
    message: str = body["message"]
    return message


async def test_validation_error_is_422_in_error_shape(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    headers = auth(demo.user("maple-court", "dana"))
    msg = _assert_error(
        await client.post("/api/v1/messages", json={"body": ""}, headers=headers),
        422,
        "invalid_request",
    )
    assert "client_message_id" in msg and "body" in msg


@pytest.mark.parametrize(
    "payload",
    [
        {"body": "hi", "client_message_id": "a", "extra": 1},  # unknown field
        {"body": "bad\x00byte", "client_message_id": "a"},  # NUL
        {"body": "\ud800", "client_message_id": "a"},  # lone surrogate
        {"body": "x" * 4001, "client_message_id": "a"},  # too long
        {"body": 12, "client_message_id": "a"},
        ["not", "an", "object"],
    ],
)
async def test_bad_bodies_are_422(
    client: httpx.AsyncClient, demo: Demo, payload: object
) -> None:
    headers = {
        **auth(demo.user("maple-court", "dana")),
        "Content-Type": "application/json",
    }
    # json.dumps writes the lone surrogate as a \u escape, as a hostile client can.
    raw = json.dumps(payload).encode()
    resp = await client.post("/api/v1/messages", content=raw, headers=headers)
    _assert_error(resp, 422, "invalid_request")


async def test_malformed_json_is_422(client: httpx.AsyncClient, demo: Demo) -> None:
    headers = {
        **auth(demo.user("maple-court", "dana")),
        "Content-Type": "application/json",
    }
    resp = await client.post("/api/v1/messages", content=b"{nope", headers=headers)
    _assert_error(resp, 422, "invalid_request")


async def test_input_is_not_echoed(client: httpx.AsyncClient) -> None:
    secret = "hunter2-do-not-echo"
    resp = await client.post(
        "/api/v1/auth/login", json={"tenant": "x", "email": secret, "password": 5}
    )
    _assert_error(resp, 422, "invalid_request")
    assert secret not in resp.text


async def test_bad_path_id_and_query_are_422(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    headers = auth(demo.user("maple-court", "dana"))
    for url in (
        "/api/v1/tasks/not-a-uuid",
        "/api/v1/tasks?status=exploded",
        "/api/v1/tasks?limit=100000000000000000000000",
        "/api/v1/notifications?limit=0",
    ):
        _assert_error(await client.get(url, headers=headers), 422, "invalid_request")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    _assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")
    _assert_error(await client.put("/api/v1/messages"), 405, "method_not_allowed")


async def test_body_over_limit_is_413(client: httpx.AsyncClient, demo: Demo) -> None:
    headers = auth(demo.user("maple-court", "dana"))
    big = b'{"body": "' + b"x" * get_settings().max_body_bytes + b'"}'
    resp = await client.post(
        "/api/v1/messages",
        content=big,
        headers={**headers, "Content-Type": "application/json"},
    )
    _assert_error(resp, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    streamed = await client.post(
        "/api/v1/messages",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )
    _assert_error(streamed, 413, "payload_too_large")


async def test_body_under_limit_passes_through(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    headers = auth(demo.user("maple-court", "dana"))

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"body": "streamed hello", '
        yield b'"client_message_id": "stream-1"}'

    resp = await client.post(
        "/api/v1/messages",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert resp.status_code == 202, resp.text


@pytest.fixture
def buggy_app(stack: None) -> FastAPI:
    api = create_api()

    @api.get("/api/v1/_boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return api


async def test_unexpected_error_is_generic_500(
    buggy_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=buggy_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        resp = await c.get("/api/v1/_boom")
    _assert_error(resp, 500, "internal_error")
    assert "hunter2" not in resp.text and "Traceback" not in resp.text
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


async def test_openapi_documents_every_body_and_error(
    client: httpx.AsyncClient,
) -> None:
    resp = await client.get("/api/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert "ErrorBody" in doc["components"]["schemas"]
    ops = [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
    ]
    assert len(ops) >= 25
    for path, method, op in ops:
        responses = op["responses"]
        for status in ("422", "500"):
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), (path, method, status)
        success = [s for s in responses if s.startswith("2")]
        assert success, (path, method)
        for s in success:
            if s != "204":
                assert "schema" in responses[s]["content"]["application/json"]
        if "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in body, (path, method)
        if path.startswith(("/api/v1/auth/login", "/api/v1/messages")) and (
            method == "post"
        ):
            assert "Retry-After" in responses["429"]["headers"]
    docs = await client.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
