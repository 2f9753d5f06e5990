"""Per-tenant concurrency cap: one tenant's flood cannot take every worker slot.

Each tenant may run at most TENANT_MAX_CONCURRENCY assistant turns at once across
all workers. A job that finds its tenant at the cap is deferred briefly (arq Retry)
and the slot goes to the next job in the queue, usually another tenant's. The
in-flight set holds an expiry per job, so a crashed worker's slot frees itself.
"""

from __future__ import annotations

import time
import uuid

from app.core.redis_client import get_redis, tenant_key

# KEYS[1] in-flight zset; ARGV: job id, now, expiry, cap. Returns 1 when acquired.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


def inflight_key(tenant_id: uuid.UUID | str) -> str:
    return tenant_key(tenant_id, "inflight")


async def acquire_slot(
    tenant_id: uuid.UUID | str, job_id: str, cap: int, hold_s: float
) -> bool:
    now = time.time()
    acquired = await get_redis().eval(  # type: ignore[misc]
        _ACQUIRE, 1, inflight_key(tenant_id), job_id, now, now + hold_s, cap
    )
    return bool(acquired)


async def release_slot(tenant_id: uuid.UUID | str, job_id: str) -> None:
    await get_redis().zrem(inflight_key(tenant_id), job_id)
