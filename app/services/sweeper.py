"""The sweeper: PostgreSQL is the truth, so whatever a crash or a Redis restart left
behind is found there and put back on the queue (same job ids: nothing runs twice).

Per active tenant: places in the tenant's queue held by lost jobs are freed,
messages stuck before `done` are re-queued, due reminders are re-created from the
schedules table, notifications whose Web Push never went out are queued again,
due push digests are sent (app/services/push_digest.py),
expired approvals are closed, and memories stored while the embedding model was
unavailable are embedded.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import col, select

from app.core.db import platform_session, tenant_session
from app.core.queue import (
    REMINDER_GRACE,
    enqueue_message,
    enqueue_push,
    enqueue_reminder,
    fill_tenant_queue,
)
from app.core.settings import get_settings
from app.domain.models import Message, MessageStatus, Schedule, Tenant, utcnow
from app.services.approvals import expire_due
from app.services.memories import embed_pending_memories
from app.services.push_digest import send_digests
from app.services.push_sender import unpushed

log = logging.getLogger(__name__)
# Reminders due within this window are (re-)queued as deferred jobs.
REMINDER_HORIZON = timedelta(hours=48)
# A memory younger than this is still being embedded by the turn that wrote it
# (app/services/memory_vectors.py); older and still without a vector, it was left.
EMBED_GRACE_S = 10.0
UNFINISHED = (
    MessageStatus.received.value,
    MessageStatus.queued.value,
    MessageStatus.processing.value,
)


async def sweep() -> dict[str, int]:
    settings = get_settings()
    counts = {
        "requeued": 0,
        "expired": 0,
        "reminders": 0,
        "embedded": 0,
        "pushes": 0,
        "digests": 0,
    }
    stuck_before = utcnow() - timedelta(seconds=settings.sweeper_stuck_after_s)
    async with platform_session() as ps:
        tenants = (
            await ps.exec(select(Tenant.id).where(Tenant.status == "active"))
        ).all()
    for tid in tenants:
        async with tenant_session(tid) as s:
            stuck = (
                await s.exec(
                    select(Message.id).where(
                        col(Message.status).in_(UNFINISHED),
                        col(Message.updated_at) < stuck_before,
                    )
                )
            ).all()
            now = utcnow()
            due = (
                await s.exec(
                    select(Schedule.id, Schedule.starts_at).where(
                        Schedule.status == "active",
                        col(Schedule.starts_at) <= now + REMINDER_HORIZON,
                        col(Schedule.starts_at) >= now - REMINDER_GRACE,
                        or_(
                            col(Schedule.reminder_sent_at).is_(None),
                            col(Schedule.reminder_sent_at) < col(Schedule.starts_at),
                        ),
                    )
                )
            ).all()
        # Places that a lost job held in the tenant's queue are given out again.
        await fill_tenant_queue(tid)
        for message_id in stuck:
            # Same job id: a message whose job is still waiting or running (or
            # still in the tenant's queue) is not queued twice.
            await enqueue_message(tid, message_id)
            counts["requeued"] += 1
        for schedule_id, starts_at in due:
            if starts_at is not None:
                await enqueue_reminder(tid, schedule_id, starts_at)
                counts["reminders"] += 1
        pushes = await unpushed(tid, settings.sweeper_stuck_after_s)
        if pushes:
            # The lease in push_sender keeps this from racing a push job that is
            # merely slow.
            await enqueue_push(tid, pushes)
            counts["pushes"] += len(pushes)
        counts["digests"] += await send_digests(tid)
        counts["expired"] += await expire_due(tid)
        counts["embedded"] += await _embed_pending(tid)
    if (
        counts["requeued"]
        or counts["expired"]
        or counts["embedded"]
        or counts["pushes"]
        or counts["digests"]
    ):
        log.info("sweep", extra=counts)
    return counts


async def _embed_pending(tenant_id: uuid.UUID) -> int:
    try:
        return await embed_pending_memories(tenant_id, EMBED_GRACE_S)
    except Exception:
        log.warning("embedding pending memories failed", exc_info=True)
        return 0
