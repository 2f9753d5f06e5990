"""CORS: only the configured origins get Access-Control-Allow-Origin, with or without
a preflight, through the API alone and through the Reflex composition around it."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from app.core.settings import Settings, get_settings
from tests.api.objects import auth
from tests.conftest import Demo

FOREIGN = ["https://evil.example", "null", "http://localhost:3001", "http://localhost"]
ACAO = "access-control-allow-origin"


def _own_origin() -> str:
    return get_settings().allowed_origins[0]


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }


@pytest.mark.parametrize("via", ["api", "reflex"])
@pytest.mark.parametrize("origin", FOREIGN)
async def test_foreign_origin_gets_no_allow_origin(
    client: httpx.AsyncClient,
    reflex_client: httpx.AsyncClient,
    demo: Demo,
    via: str,
    origin: str,
) -> None:
    http = client if via == "api" else reflex_client
    headers = {**auth(demo.user("maple-court", "dana")), "Origin": origin}
    resp = await http.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 200
    # (Starlette sends Allow-Credentials regardless; without Allow-Origin the
    # browser hands the response to no foreign page.)
    assert ACAO not in resp.headers

    pre = await http.options("/api/v1/auth/me", headers=_preflight(origin))
    assert pre.status_code == 400
    assert ACAO not in pre.headers


@pytest.mark.parametrize("via", ["api", "reflex"])
async def test_own_origin_is_allowed_with_credentials(
    client: httpx.AsyncClient, reflex_client: httpx.AsyncClient, demo: Demo, via: str
) -> None:
    http = client if via == "api" else reflex_client
    origin = _own_origin()
    headers = {**auth(demo.user("maple-court", "dana")), "Origin": origin}
    resp = await http.get("/api/v1/auth/me", headers=headers)
    assert resp.headers[ACAO] == origin
    assert resp.headers["access-control-allow-credentials"] == "true"

    pre = await http.options("/api/v1/auth/me", headers=_preflight(origin))
    assert pre.status_code == 200
    assert pre.headers[ACAO] == origin


def test_reflex_config_uses_the_settings_allow_list() -> None:
    from reflex.config import get_config

    assert tuple(get_config().cors_allowed_origins) == get_settings().allowed_origins


def test_allow_list_defaults_to_public_and_api_url_origins() -> None:
    s = Settings(public_url="https://Board.Example:443/app/", api_url="https://b.x")
    assert s.allowed_origins == ("https://board.example", "https://b.x")
    s = Settings(cors_origins="https://a.example, http://b.example:8080/")
    assert s.allowed_origins == ("https://a.example", "http://b.example:8080")


@pytest.mark.parametrize("bad", ["*", "null", "https://a.example,*", "ftp://x"])
def test_wildcards_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Settings(cors_origins=bad)
