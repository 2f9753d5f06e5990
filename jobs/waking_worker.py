"""arq's worker, woken when a job is queued instead of only at its next poll.

arq polls its queue (a sorted set) every `poll_delay`: a message queued just after
a poll waits for the next one, on average half the delay, on every turn. Queueing a
job publishes on the queue's wake channel (app/core/queue.py `_enqueue_now`), and a
job ending frees a slot; either starts a poll at once. The timed poll stays, as
the fallback for a wake-up that was lost and for deferred jobs coming due.

Starting jobs: arq checks and locks each job id of a poll on its own, four round
trips one after the other (WATCH, EXISTS, ZSCORE, MULTI/PSETEX/EXEC), and a job
stays in the queue while it runs, so every poll re-checks the running ones too. On a
busy event loop each round trip waits its turn behind the running jobs, so starting
jobs became the worker's limit (about 45 jobs/s on 2 cores with the loop a third
idle). `start_jobs` here checks and locks all of a poll's ids in one script, the
same rule atomically: not in progress, still queued, due.

Written against arq 0.28 (pinned in requirements-nodeps.txt): `main` is arq's own
with its `poll()` loop replaced by one that also waits on the wake-up,
`start_jobs` is arq's with the claim above, and `_release_sem_dec_counter_on_complete`
is the hook arq calls when a job's task ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.connections import create_pool, log_redis_info
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker
from redis.commands.core import AsyncScript

log = logging.getLogger(__name__)

RESUBSCRIBE_S = 1.0
STOP_LISTENER_S = 2.0

# KEYS: the queue, then each job's in-progress key; ARGV: now (ms), the lock's
# lifetime (ms), how many to lock at most, then the job ids. Returns [id, score,
# id, score, ...] of the jobs locked: arq's own rule (worker.py start_jobs), made
# atomic by the script instead of WATCH/MULTI.
CLAIM_JOBS_LUA = """
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[3])
local locked = {}
for i = 2, #KEYS do
  if #locked >= 2 * limit then break end
  local id = ARGV[i + 2]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) <= now and redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SET', KEYS[i], '1', 'PX', ARGV[2])
    locked[#locked + 1] = id
    locked[#locked + 1] = score
  end
end
return locked
"""


class WakingWorker(Worker):
    """An arq Worker that also polls whenever `wake_channel` carries a message."""

    def __init__(self, *args: Any, wake_channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wake_channel = wake_channel
        self._woken = asyncio.Event()
        self._claim_script: AsyncScript | None = None

    async def main(self) -> None:
        if self.burst:  # runs until the queue is empty: nothing to wake
            await super().main()
            return
        if self._pool is None:
            self._pool = await create_pool(
                self.redis_settings,
                job_deserializer=self.job_deserializer,
                job_serializer=self.job_serializer,
                default_queue_name=self.queue_name,
                expires_extra_ms=self.expires_extra_ms,
            )
        await log_redis_info(self.pool, log.info)
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        # A plain loop, not an async generator: on cancellation the listener is
        # stopped here, before arq's close() shuts the pool its connection is from.
        listener = asyncio.create_task(self._listen())
        try:
            while True:
                # Cleared before the poll: a wake-up that arrives during it
                # starts the next one straight away.
                self._woken.clear()
                await self._poll_iteration()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow
                # a cancellation that lands as the wake-up does, and the worker
                # would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_delay_s):
                        await self._woken.wait()
        finally:
            listener.cancel()
            # Bounded: a connection that does not close cleanly must not hold
            # up the worker's shutdown.
            await asyncio.wait({listener}, timeout=STOP_LISTENER_S)

    async def _listen(self) -> None:
        """Set `_woken` for each message on the wake channel; a lost connection
        only leaves the timed poll until it is back."""
        while True:
            try:
                async with self.pool.pubsub() as pubsub:
                    await pubsub.subscribe(self.wake_channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._woken.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("wake channel lost; polling only", exc_info=True)
            await asyncio.sleep(RESUBSCRIBE_S)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """Lock and start as many of `job_ids` as there are free slots, in one
        round trip. The ids of a poll include the jobs running (arq keeps a job
        queued until it ends): the script skips them. What is not started stays
        queued for a later poll; a job ending wakes one."""
        free = self.max_jobs - self.job_counter
        if not job_ids or free <= 0:
            return
        ids = [job_id.decode() for job_id in job_ids]
        keys = [self.queue_name, *(in_progress_key_prefix + i for i in ids)]
        timeout_ms = int(self.in_progress_timeout_s * 1000)
        locked = await self._claim_jobs(
            keys=keys, args=[timestamp_ms(), timeout_ms, free, *ids]
        )
        for job_id, score in zip(locked[::2], locked[1::2], strict=True):
            # Only this loop takes slots, so the ones counted above are still
            # free (jobs ending meanwhile only free more): this does not wait.
            await self.sem.acquire()
            self.job_counter += 1
            name = job_id.decode()
            task = self.loop.create_task(self.run_job(name, int(float(score))))
            task.add_done_callback(
                lambda _: self._release_sem_dec_counter_on_complete()
            )
            self.tasks[name] = task

    @property
    def _claim_jobs(self) -> AsyncScript:
        if self._claim_script is None:
            self._claim_script = self.pool.register_script(CLAIM_JOBS_LUA)
        return self._claim_script

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        # A free slot: jobs left waiting while all slots were busy start now.
        self._woken.set()
