"""PostgreSQL down: the API answers a quick 503 JSON (never a hang, never a 500),
and the same process works again once the database is back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from app.core import db
from app.core.settings import get_settings
from tests.api.objects import auth
from tests.conftest import Demo


async def test_database_down_is_a_quick_503_then_recovers(
    client: httpx.AsyncClient,
    demo: Demo,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    priya = demo.user("harbor-bistro", "priya")
    assert (await client.get("/api/v1/messages", headers=auth(priya))).is_success
    await db.app_engine().dispose()
    db.app_engine.cache_clear()
    # A real client against a server that is not there: a socket dir with no server.
    monkeypatch.setattr(
        get_settings(),
        "app_database_url",
        f"postgresql+psycopg://switchboard_app@/postgres?host={tmp_path}",
    )
    try:
        started = time.monotonic()
        down = await client.get("/api/v1/messages", headers=auth(priya))
        elapsed = time.monotonic() - started
    finally:
        await db.app_engine().dispose()
        db.app_engine.cache_clear()
        monkeypatch.undo()
    assert down.status_code == 503, down.text
    assert down.json()["error"] == "unavailable"
    assert "try again" in down.json()["message"]
    assert down.headers["Retry-After"] == "5"
    assert elapsed < 10
    # Back: a new connection is made on the next request.
    assert (await client.get("/api/v1/messages", headers=auth(priya))).is_success
