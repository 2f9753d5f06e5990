"""arq's worker, woken when a job is queued instead of only at its next poll.

arq polls its queue (a sorted set) every `poll_delay`: a message queued just after
a poll waits for the next one, on average half the delay, on every turn. Whoever
queues a job publishes on the queue's wake channel (app/core/queue.py `wake`), and
a job ending frees a slot; either starts a poll at once. The timed poll stays, as
the fallback for a wake-up that was lost and for deferred jobs coming due.

Written against arq 0.28 (pinned in requirements-nodeps.txt): `main` is arq's own
with its `poll()` loop replaced by one that also waits on the wake-up, and
`_release_sem_dec_counter_on_complete` is the hook arq calls when a job's task ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.connections import create_pool, log_redis_info
from arq.worker import Worker

log = logging.getLogger(__name__)

RESUBSCRIBE_S = 1.0
STOP_LISTENER_S = 2.0


class WakingWorker(Worker):
    """An arq Worker that also polls whenever `wake_channel` carries a message."""

    def __init__(self, *args: Any, wake_channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wake_channel = wake_channel
        self._woken = asyncio.Event()

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

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        # A free slot: jobs left waiting while all slots were busy start now.
        self._woken.set()
