"""Per-tenant concurrency cap: one tenant's flood cannot take every worker slot.

Each tenant may run at most TENANT_MAX_CONCURRENCY assistant turns at once across
all workers. A job that finds its tenant at the cap is deferred briefly (arq Retry)
and the slot goes to the next job in the queue, usually another tenant's. The
in-flight set holds an expiry per job, so a crashed worker's slot frees itself.
"""

from __future__ import annotations

import time
import uuid
from typing import NamedTuple

from app.core.fair_queue import waiting_key
from app.core.redis_client import get_redis, tenant_key

# KEYS: the in-flight zset, the tenant's waiting zset (app/core/fair_queue.py);
# ARGV: job id, now, expiry, cap. Returns {1 when acquired else 0, how many of the
# tenant's messages wait}: the turn learns whether others wait behind it in the
# same round trip as its slot.
_ACQUIRE = """
local waiting = redis.call('ZCARD', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return {1, waiting}
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return {0, waiting}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], 3600)
return {1, waiting}
"""


class Slot(NamedTuple):
    acquired: bool
    waiting: int  # the tenant's messages waiting for a place in arq


def inflight_key(tenant_id: uuid.UUID | str) -> str:
    return tenant_key(tenant_id, "inflight")


async def acquire_slot(
    tenant_id: uuid.UUID | str, job_id: str, cap: int, hold_s: float
) -> Slot:
    now = time.time()
    acquired, waiting = await get_redis().eval(  # type: ignore[misc]
        _ACQUIRE,
        2,
        inflight_key(tenant_id),
        waiting_key(tenant_id),
        job_id,
        now,
        now + hold_s,
        cap,
    )
    return Slot(bool(acquired), int(waiting))


async def release_slot(tenant_id: uuid.UUID | str, job_id: str) -> None:
    await get_redis().zrem(inflight_key(tenant_id), job_id)
