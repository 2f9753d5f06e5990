"""The embedded PostgreSQL is sized for the machine: shared_buffers is set once
(it needs a restart) and kept by ALTER SYSTEM."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import text

from app.core.embedded import SHARED_BUFFERS_MB_SQL, shared_buffers_for
from app.core.settings import get_settings


def test_a_quarter_of_memory_at_most_8_gb() -> None:
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    auto = shared_buffers_for(0)
    assert 128 <= auto <= 8192
    # The documented rule: a quarter of memory, clamped to [128 MB, 8 GB].
    assert auto == min(8192, max(128, memory_mb // 4))
    assert shared_buffers_for(512) == 512
    assert shared_buffers_for(-1) == -1  # leave the server's own setting


def test_the_running_server_has_it(owner_engine: Any) -> None:
    settings = get_settings()
    external = os.environ.get("TEST_DATABASE_URL")
    if external or settings.embedded_pg_shared_buffers_mb < 0:
        pytest.skip("an external or untuned server is its operator's to size")
    with owner_engine.connect() as conn:
        mb = conn.execute(text(SHARED_BUFFERS_MB_SQL)).scalar_one()
    assert mb == shared_buffers_for(settings.embedded_pg_shared_buffers_mb)
