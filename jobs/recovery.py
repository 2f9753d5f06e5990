"""Jobs of a crashed worker go back to the queue now, not when arq's lock expires.

arq marks a job it starts with `arq:in-progress:<job id>` for job_timeout + 10 s and
keeps it in the queue until it finishes. When a worker dies (kill -9, OOM, a lost
machine) its jobs stay queued but locked: up to WORKER_MAX_JOBS messages wait about
70 s for nobody. So each worker records the jobs it is running under its own id
(`<prefix>:worker:<id>:jobs`), and a worker starting up, and every sweep, unlocks
the jobs of workers that are dead:

- on the same host, a worker whose process no longer exists (its id is
  `<host>-<pid>`): known at once, so a restarted worker resumes its predecessor's
  jobs in its first second;
- anywhere, a worker whose heartbeat (app/core/health.py) is older than DEAD_AFTER_S.

Unlocking a job that is in fact still running can only make it run twice at once,
which every job tolerates (each one is idempotent: turns claim the message row and
write under unique keys), so the rule can be simple.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from arq.constants import in_progress_key_prefix

from app.core import health
from app.core.redis_client import get_redis, key

log = logging.getLogger(__name__)
DEAD_AFTER_S = 30.0
JOBS_TTL_S = 24 * 3600


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def jobs_key(worker: str) -> str:
    return key("worker", worker, "jobs")


async def job_started(worker: str, job_id: str) -> None:
    async with get_redis().pipeline(transaction=False) as pipe:  # one round trip
        pipe.sadd(jobs_key(worker), job_id)
        pipe.expire(jobs_key(worker), JOBS_TTL_S)
        await pipe.execute()


async def job_ended(worker: str, job_id: str) -> None:
    await get_redis().srem(jobs_key(worker), job_id)  # type: ignore[misc]


def _process_gone(worker: str) -> bool:
    host, _, pid = worker.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


async def release_dead_workers(me: str) -> int:
    """Unlock the jobs of dead workers; returns how many were unlocked."""
    redis = get_redis()
    beats = dict(await redis.zrange(health.workers_key(), 0, -1, withscores=True))
    pattern = jobs_key("*")
    prefix, suffix = pattern.split("*")
    async for name in redis.scan_iter(match=pattern):
        beats.setdefault(name[len(prefix) : -len(suffix)], None)
    now = time.time()
    released = 0
    for worker, beat in beats.items():
        stale = beat is not None and now - beat > DEAD_AFTER_S
        if worker == me or not (stale or _process_gone(worker)):
            continue
        job_ids = await redis.smembers(jobs_key(worker))  # type: ignore[misc]
        if job_ids:
            await redis.delete(*(in_progress_key_prefix + j for j in job_ids))
            released += len(job_ids)
            log.warning(
                "released the jobs of a dead worker",
                extra={"worker": worker, "jobs": len(job_ids)},
            )
        await redis.delete(jobs_key(worker))
        await health.forget(worker)
    return released
