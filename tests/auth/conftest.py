"""Auth test fixtures: rate-limit counters start empty for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.core.redis_client import get_redis, key


async def clear_rate_limits() -> None:
    redis = get_redis()
    async for k in redis.scan_iter(match=key("rl", "*")):
        await redis.delete(k)
    async for k in redis.scan_iter(match=key("t", "*", "rl", "*")):
        await redis.delete(k)


@pytest.fixture(autouse=True)
async def fresh_rate_limits(stack: None) -> AsyncIterator[None]:
    await clear_rate_limits()
    yield
