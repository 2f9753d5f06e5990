"""arq jobs: thin wrappers over the domain layer (app/services).

- process_message: one assistant turn, under the tenant's concurrency cap.
- send_reminder: a schedule's start, as a deferred job backed by the schedules table.
- sweep (cron): re-queues messages a crash or a Redis restart left behind, expires
  approvals, and re-creates reminder jobs from the schedules table.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from arq import Retry
from sqlalchemy import or_
from sqlmodel import col, select

from app.db import platform_session, tenant_session
from app.logs import log_context
from app.models import Message, MessageStatus, Notification, Schedule, Tenant, utcnow
from app.services.approvals import expire_due
from app.services.delivery import LiveEvent, notify_users, publish
from app.services.recipients import resolve_refs
from app.services.turns import handle_message
from app.settings import get_settings
from jobs.fairness import acquire_slot, release_slot
from jobs.queue import REMINDER_GRACE, enqueue_message, enqueue_reminder

log = logging.getLogger(__name__)
REMINDER_HORIZON = timedelta(hours=48)


async def process_message(ctx: dict[str, Any], tenant_id: str, message_id: str) -> str:
    settings = get_settings()
    job_id = str(ctx.get("job_id", message_id))
    with log_context(tenant_id=tenant_id, message_id=message_id, job_id=job_id):
        hold = settings.job_timeout_s + 10
        if not await acquire_slot(
            tenant_id, job_id, settings.tenant_max_concurrency, hold
        ):
            # Tenant at its cap: step aside so other tenants' jobs run meanwhile.
            raise Retry(defer=0.05 + random.random() * 0.1)
        try:
            return await handle_message(uuid.UUID(tenant_id), uuid.UUID(message_id))
        except Exception as exc:
            tries = int(ctx.get("job_try", 1))
            raise Retry(defer=retry_delay(tries)) from exc
        finally:
            await release_slot(tenant_id, job_id)


def retry_delay(tries: int) -> float:
    """Back off after a failed turn (model down...): 2, 4, 8... s, at most 30."""
    return float(min(2**tries, 30))


async def send_reminder(
    ctx: dict[str, Any], tenant_id: str, schedule_id: str, at_iso: str
) -> str:
    tid, at = uuid.UUID(tenant_id), datetime.fromisoformat(at_iso)
    with log_context(tenant_id=tenant_id, job_id=ctx.get("job_id")):
        async with tenant_session(tid) as s:
            sch = (
                await s.exec(
                    select(Schedule)
                    .where(Schedule.id == uuid.UUID(schedule_id))
                    .with_for_update()
                )
            ).first()
            if sch is None or sch.status != "active" or sch.starts_at != at:
                return "stale"  # cancelled or moved: the new time has its own job
            if sch.reminder_sent_at is not None and sch.reminder_sent_at >= at:
                return "already sent"
            if at < utcnow() - REMINDER_GRACE:
                return "missed"  # long past (worker down for hours): not noise now
            users = await resolve_refs(s, sch.audience)
            tz = await _tenant_timezone(tid)
            events = await notify_users(
                s,
                tid,
                users,
                kind="reminder",
                title=f"Reminder: {sch.title}",
                body=sch.title,
                dedupe_key=f"reminder:{sch.id}:{int(at.timestamp())}",
                data={"schedule_id": str(sch.id), "starts_at": at.isoformat()},
            )
            sch.reminder_sent_at = utcnow()
            next_at = _advance(sch, at, tz)
            s.add(sch)
        await publish(tid, events)
        if next_at is not None:
            await enqueue_reminder(tid, sch.id, next_at)
        return f"sent to {len(events)}"


async def _tenant_timezone(tenant_id: uuid.UUID) -> str:
    async with platform_session() as ps:
        tenant = await ps.get(Tenant, tenant_id)
    return tenant.timezone if tenant else "UTC"


def _advance(sch: Schedule, at: datetime, tz: str) -> datetime | None:
    """Recurring schedules move to their next occurrence after a reminder."""
    if not sch.recurrence:
        return None
    from app.seed import next_occurrence

    sch.starts_at = next_occurrence(sch.recurrence, tz, at)
    return sch.starts_at


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    settings = get_settings()
    counts = {"requeued": 0, "expired": 0, "reminders": 0, "embedded": 0}
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
                        col(Message.status).in_(
                            [
                                MessageStatus.received.value,
                                MessageStatus.queued.value,
                                MessageStatus.processing.value,
                            ]
                        ),
                        col(Message.updated_at) < stuck_before,
                    )
                )
            ).all()
            due = (
                await s.exec(
                    select(Schedule.id, Schedule.starts_at).where(
                        Schedule.status == "active",
                        col(Schedule.starts_at) <= utcnow() + REMINDER_HORIZON,
                        col(Schedule.starts_at) >= utcnow() - timedelta(minutes=10),
                        or_(
                            col(Schedule.reminder_sent_at).is_(None),
                            col(Schedule.reminder_sent_at) < col(Schedule.starts_at),
                        ),
                    )
                )
            ).all()
        for message_id in stuck:
            # Same job id: a message whose job is still waiting or running is not
            # queued twice.
            await enqueue_message(tid, message_id)
            counts["requeued"] += 1
        for schedule_id, starts_at in due:
            if starts_at is not None:
                await enqueue_reminder(tid, schedule_id, starts_at)
                counts["reminders"] += 1
        counts["expired"] += await expire_due(tid)
        counts["embedded"] += await _embed_pending(tid)
    if counts["requeued"] or counts["expired"] or counts["embedded"]:
        log.info("sweep", extra=counts)
    return counts


async def _embed_pending(tenant_id: uuid.UUID) -> int:
    """Memories stored while the embedding model was unavailable."""
    from agents.embeddings import embed_pending_memories

    try:
        return await embed_pending_memories(tenant_id)
    except Exception:
        log.warning("embedding pending memories failed", exc_info=True)
        return 0


async def send_push(
    ctx: dict[str, Any], tenant_id: str, notification_ids: list[str]
) -> str:
    """Web Push for notifications not pushed yet (a re-delivered job skips those
    already sent: push_sender marks pushed_at)."""
    from app.services.push_sender import send_push as push

    tid = uuid.UUID(tenant_id)
    with log_context(tenant_id=tenant_id, job_id=ctx.get("job_id")):
        async with tenant_session(tid) as s:
            rows = (
                await s.exec(
                    select(Notification).where(
                        col(Notification.id).in_(
                            [uuid.UUID(i) for i in notification_ids]
                        ),
                        col(Notification.pushed_at).is_(None),
                    )
                )
            ).all()
        events = [
            LiveEvent(n.user_id, n.kind, n.id, n.title, dict(n.data or {}))
            for n in rows
        ]
        report = await push(tid, events)
        return f"sent {report.sent}, removed {report.removed}, failed {report.failed}"
