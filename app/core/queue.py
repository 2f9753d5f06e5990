"""Queueing jobs: the one place that knows job names, ids and the queue.

Jobs are keyed by what they are about (`msg:<message_id>`), so a second enqueue of
the same message while its job is waiting or running is a no-op, and enqueue only
passes ids and other primitives: jobs are JSON (`dump_job`), not arq's default
pickle, so nothing read from Redis can run code in a worker, and the fair queue's
script writes a message job itself.

Message jobs pass through the tenant's own queue first (app/core/fair_queue.py):
at most TENANT_MAX_CONCURRENCY of a tenant's messages are in arq at once, and the
tenant's next one joins the back of arq's queue when one of them ends
(`message_finished`), so tenants are served round robin.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.commands.core import AsyncScript

from app.core import fair_queue
from app.core.redis_client import key
from app.core.settings import get_settings

log = logging.getLogger(__name__)
_pools: dict[int, ArqRedis] = {}
_enqueue_scripts: dict[int, AsyncScript] = {}
REMINDER_GRACE = timedelta(minutes=10)

# KEYS: the queue, then each job's (job key, result key); ARGV: now (ms), the jobs'
# lifetime (ms), the wake channel, then each job's (id, serialized job). arq's own
# enqueue rule (arq/connections.py enqueue_job: no job while one with its id is
# queued, running or kept) made atomic by the script instead of WATCH/MULTI, for
# all the jobs at once, and the workers woken in the same round trip: arq takes
# three round trips per job and the wake-up one more. Returns how many were queued.
_ENQUEUE_NOW_LUA = """
local queued = 0
for i = 1, (#KEYS - 1) / 2 do
  if redis.call('EXISTS', KEYS[2 * i], KEYS[2 * i + 1]) == 0 then
    redis.call('PSETEX', KEYS[2 * i], ARGV[2], ARGV[3 + 2 * i])
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2 + 2 * i])
    queued = queued + 1
  end
end
if queued > 0 then
  redis.call('PUBLISH', ARGV[3], '')
end
return queued
"""


def queue_name() -> str:
    return key("queue")


def wake_channel() -> str:
    """Where a queued job is announced: workers poll at once (jobs/waking_worker.py)
    instead of at their next timed poll."""
    return key("queue", "wake")


def dump_job(job: dict[str, Any]) -> bytes:
    """arq's job record (and a kept result's) as JSON: the workers read it with
    `load_job`. A job's arguments must be JSON (arq raises otherwise); a result
    that is not (a failed job's exception) is kept as its repr."""
    try:
        return json.dumps(job, separators=(",", ":")).encode()
    except TypeError:
        if "r" not in job:  # a job, not a result
            raise
        return json.dumps({**job, "r": repr(job["r"])}, separators=(",", ":")).encode()


def load_job(raw: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(raw)
    if isinstance(loaded.get("a"), list):
        loaded["a"] = tuple(loaded["a"])  # arq's type for a job's arguments
    return loaded


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set (start through `make run`)")
    return RedisSettings.from_dsn(url)


async def get_pool() -> ArqRedis:
    """One arq pool per event loop (tests and the app run different loops)."""
    loop_id = id(asyncio.get_running_loop())
    pool = _pools.get(loop_id)
    if pool is None:
        pool = await create_pool(
            redis_settings(),
            default_queue_name=queue_name(),
            job_serializer=dump_job,
            job_deserializer=load_job,
        )
        _pools[loop_id] = pool
    return pool


async def _enqueue_now(
    pool: ArqRedis, jobs: Sequence[tuple[str, tuple[object, ...], str]]
) -> int:
    """Queue jobs (function, args, job id) due now, each once per id, and wake the
    workers: one round trip. Returns how many were queued."""
    if not jobs:
        return 0
    script = _enqueue_scripts.get(id(pool))
    if script is None:
        script = _enqueue_scripts[id(pool)] = pool.register_script(_ENQUEUE_NOW_LUA)
    now = timestamp_ms()
    keys: list[str] = [pool.default_queue_name]
    args: list[bytes | str | int] = [now, pool.expires_extra_ms, wake_channel()]
    for function, job_args, job_id in jobs:
        keys += [job_key_prefix + job_id, result_key_prefix + job_id]
        job = serialize_job(
            function, job_args, {}, None, now, serializer=pool.job_serializer
        )
        args += [job_id, job]
    return int(await script(keys=keys, args=args))


async def close_pools() -> None:
    for pool in list(_pools.values()):
        await pool.aclose()
    _pools.clear()
    _enqueue_scripts.clear()


MESSAGE_JOB_PREFIX = "msg:"


def message_job_id(message_id: uuid.UUID) -> str:
    return f"{MESSAGE_JOB_PREFIX}{message_id}"


MESSAGE_JOB = "process_message"


async def _fair_step(
    mode: fair_queue.Mode,
    tenant_id: uuid.UUID,
    message_id: uuid.UUID | None,
    slot: tuple[str, str] | None = None,
) -> None:
    """Move the tenant's queue one step; what it admits goes to arq in the same
    round trip."""
    pool = await get_pool()
    await fair_queue.step(
        mode,
        tenant_id,
        message_id,
        cap=get_settings().tenant_max_concurrency,
        arq=fair_queue.Arq(
            queue=pool.default_queue_name,
            job_key_prefix=job_key_prefix,
            in_progress_prefix=in_progress_key_prefix,
            result_key_prefix=result_key_prefix,
            job_key_ms=pool.expires_extra_ms,
            wake_channel=wake_channel(),
            function=MESSAGE_JOB,
            job_id_prefix=MESSAGE_JOB_PREFIX,
        ),
        slot=slot,
    )


async def enqueue_message(tenant_id: uuid.UUID, message_id: uuid.UUID) -> bool:
    """Queue the assistant turn for a committed message: into arq now if the tenant
    has room there, else into the tenant's queue. True when it is queued (now or
    already)."""
    await _fair_step("admit", tenant_id, message_id)
    return True


async def message_finished(
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    slot: tuple[str, str] | None = None,
) -> None:
    """A message's job ended (done, failed or nothing to do): the tenant's next
    message goes to the back of arq's queue, and the job's concurrency `slot` (key,
    member: jobs/fairness.py) is freed in the same step."""
    await _fair_step("release", tenant_id, message_id, slot)


async def fill_tenant_queue(tenant_id: uuid.UUID) -> None:
    """Admit what has room (the sweeper: admissions whose job was lost expire)."""
    await _fair_step("fill", tenant_id, None)


async def enqueue_reminder(
    tenant_id: uuid.UUID, schedule_id: uuid.UUID, at: datetime
) -> None:
    """A deferred job at the schedule's start; the schedules table backs it, so the
    sweeper re-creates it after a Redis restart (same id: no duplicate)."""
    now = datetime.now(UTC)
    if at < now - REMINDER_GRACE:
        # Long past (a schedule entered for an earlier date, a worker down for
        # hours): a reminder now would be noise. The schedule row still stands.
        log.info("reminder skipped: start is in the past", extra={"at": str(at)})
        return
    pool = await get_pool()
    await pool.enqueue_job(
        "send_reminder",
        str(tenant_id),
        str(schedule_id),
        at.isoformat(),
        _job_id=f"reminder:{schedule_id}:{int(at.timestamp())}",
        _defer_until=max(at, now),
    )


async def enqueue_reminders(
    tenant_id: uuid.UUID, schedules: list[tuple[uuid.UUID, datetime]]
) -> None:
    """Best effort after commit: the sweeper re-creates missing reminders."""
    for schedule_id, starts_at in schedules:
        try:
            await enqueue_reminder(tenant_id, schedule_id, starts_at)
        except Exception:
            log.warning("queueing a reminder failed", exc_info=True)


async def enqueue_push(tenant_id: uuid.UUID, notification_ids: list[uuid.UUID]) -> None:
    """Web Push for new notification rows, off the request/turn path."""
    if not notification_ids:
        return
    job_args = (str(tenant_id), [str(i) for i in notification_ids])
    await _enqueue_now(
        await get_pool(), [("send_push", job_args, f"push:{notification_ids[0]}")]
    )
