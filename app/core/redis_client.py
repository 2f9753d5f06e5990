"""The shared Redis connection and the key namespace.

Redis is a transport, never the source of truth. Every key and channel starts with
REDIS_PREFIX; anything about one tenant lives under `<prefix>:t:<tenant_id>:`.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

import redis.asyncio as aioredis

from app.core.settings import get_settings


def redis_url() -> str:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError(
            "REDIS_URL is not set: start through `make run` / app.cli, which starts "
            "the embedded Redis, or point it at your server."
        )
    return url


@lru_cache(maxsize=1)
def get_redis() -> aioredis.Redis:
    return aioredis.Redis.from_url(redis_url(), decode_responses=True)


def key(*parts: str) -> str:
    """A platform-level key: `<prefix>:<parts...>`."""
    return ":".join((get_settings().redis_prefix, *parts))


def tenant_key(tenant_id: uuid.UUID | str, *parts: str) -> str:
    """A key that belongs to one tenant: `<prefix>:t:<tenant_id>:<parts...>`."""
    return key("t", str(tenant_id), *parts)
