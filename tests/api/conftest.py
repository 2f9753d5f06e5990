"""API test fixtures: the FastAPI app from create_api() driven in-process through
httpx (no Reflex), against the session's real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp

from tests.auth.conftest import clear_rate_limits

CLIENT_ADDR = "203.0.113.50"


@pytest.fixture(scope="session")
def api_app(stack: None) -> FastAPI:
    from app.api import create_api

    return create_api()


@pytest.fixture(autouse=True)
async def fresh_rate_limits(stack: None) -> AsyncIterator[None]:
    await clear_rate_limits()
    yield


@pytest.fixture
async def client(
    api_app: FastAPI, demo: Any, clean_db: None
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app, client=(CLIENT_ADDR, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as c:
        yield c


@pytest.fixture(scope="session")
async def operator(demo: Any) -> tuple[Any, str, str]:
    """A platform operator: (id, email, password)."""
    import uuid

    from app.core.db import platform_session
    from app.core.passwords import hash_password
    from app.domain.models import Operator

    email = f"ops-{uuid.uuid4().hex[:8]}@platform.example"
    password = "operator-password-1"
    row = Operator(email=email, name="Ops", password_hash=hash_password(password))
    async with platform_session() as s:
        s.add(row)
    return row.id, email, password


def mounted_like_reflex() -> ASGIApp:
    """The API composed the way the Reflex app serves it (reflex/app.py
    `App.__call__`): Reflex's backend (plain-text 404 for what it does not route),
    with Reflex's CORS middleware, handed to app/app.py's api_transformer, and the
    result wrapped in a top app with Reflex's CORS again. Every CORS layer is built
    by Reflex's own `App._add_cors` from the project's rxconfig.py."""
    from reflex.app import App
    from starlette.applications import Starlette

    from app.api import api_with_reflex

    backend = Starlette()
    App._add_cors(backend)
    top = Starlette()
    top.mount("", api_with_reflex(backend))
    App._add_cors(top)
    return top


@pytest.fixture
async def reflex_client(demo: Any, clean_db: None) -> AsyncIterator[httpx.AsyncClient]:
    """Like `client`, through the Reflex composition of the API."""
    transport = httpx.ASGITransport(
        app=mounted_like_reflex(), client=(CLIENT_ADDR, 40000)
    )
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver"
    ) as c:
        yield c
