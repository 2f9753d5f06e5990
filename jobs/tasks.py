"""arq jobs: thin wrappers over the domain layer (app/services).

- process_message: one assistant turn, under the tenant's concurrency cap; when it
  ends, the tenant's next message is handed to arq (app/core/fair_queue.py).
- send_reminder: a schedule's start, as a deferred job backed by the schedules table.
- send_push: Web Push for notifications not pushed yet.
- sweep (cron): unlocks the jobs of dead workers (jobs/recovery.py), re-queues
  messages a crash or a Redis restart left behind, expires approvals, re-creates
  reminder jobs from the schedules table and embeds memories stored while the
  embedding model was unavailable.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime
from typing import Any

from arq import Retry

from app.core.logs import log_context
from app.core.queue import message_finished
from app.core.settings import get_settings
from app.services import push_sender, reminders, sweeper
from app.services.turns import handle_message
from jobs.fairness import acquire_slot, inflight_key, release_slot
from jobs.recovery import release_dead_workers

log = logging.getLogger(__name__)


async def process_message(ctx: dict[str, Any], tenant_id: str, message_id: str) -> str:
    settings = get_settings()
    job_id = str(ctx.get("job_id", message_id))
    with log_context(tenant_id=tenant_id, message_id=message_id, job_id=job_id):
        hold = settings.job_timeout_s + 10
        slot = await acquire_slot(
            tenant_id, job_id, settings.tenant_max_concurrency, hold
        )
        if not slot.acquired:
            # Tenant at its cap: step aside so other tenants' jobs run meanwhile.
            raise Retry(defer=0.05 + random.random() * 0.1)
        try:
            outcome = await handle_message(
                uuid.UUID(tenant_id), uuid.UUID(message_id), behind=slot.waiting > 0
            )
        except Exception as exc:
            await release_slot(tenant_id, job_id)
            tries = int(ctx.get("job_try", 1))
            raise Retry(defer=retry_delay(tries)) from exc
        except BaseException:
            await release_slot(tenant_id, job_id)  # cancelled: timeout, shutdown
            raise
        try:
            # Frees the slot and hands over the tenant's next message: one step.
            await message_finished(
                uuid.UUID(tenant_id),
                uuid.UUID(message_id),
                slot=(inflight_key(tenant_id), job_id),
            )
        except Exception:
            # The sweeper fills the tenant's queue again (Redis is a transport); the
            # slot expires by itself if this release fails too.
            log.warning("handing over the tenant's next message failed", exc_info=True)
            await _release_quietly(tenant_id, job_id)
        return outcome


async def _release_quietly(tenant_id: str, job_id: str) -> None:
    try:
        await release_slot(tenant_id, job_id)
    except Exception:
        log.warning("freeing the turn's slot failed (it expires)", exc_info=True)


def retry_delay(tries: int) -> float:
    """Back off after a failed turn (model down...): 2, 4, 8... s, at most 30."""
    return float(min(2**tries, 30))


async def send_reminder(
    ctx: dict[str, Any], tenant_id: str, schedule_id: str, at_iso: str
) -> str:
    with log_context(tenant_id=tenant_id, job_id=ctx.get("job_id")):
        return await reminders.send_reminder(
            uuid.UUID(tenant_id), uuid.UUID(schedule_id), datetime.fromisoformat(at_iso)
        )


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    released = await release_dead_workers(str(ctx.get("worker_id", "")))
    return {**await sweeper.sweep(), "released": released}


async def send_push(
    ctx: dict[str, Any], tenant_id: str, notification_ids: list[str]
) -> str:
    """Web Push for notifications not pushed yet (a re-delivered job skips those
    already sent: push_sender marks pushed_at)."""
    with log_context(tenant_id=tenant_id, job_id=ctx.get("job_id")):
        report = await push_sender.push_notifications(
            uuid.UUID(tenant_id),
            [uuid.UUID(i) for i in notification_ids],
            owner=str(ctx.get("job_id", "")),
        )
        return f"sent {report.sent}, removed {report.removed}, failed {report.failed}"
