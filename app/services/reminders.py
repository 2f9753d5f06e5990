"""A schedule's reminder: sent at its start to the audience as it is *now* (team
changes and disabled accounts respected), once per occurrence; a recurring schedule
then moves to its next occurrence and queues that reminder."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import select

from agents.directory import load_everyone
from app.core.db import after_commit, platform_session, tenant_session
from app.core.queue import REMINDER_GRACE, enqueue_reminder
from app.domain.models import Schedule, Tenant, utcnow
from app.domain.recurrence import next_occurrence
from app.domain.timezones import zone_or_utc
from app.services.notifications import notify_users


async def send_reminder(
    tenant_id: uuid.UUID, schedule_id: uuid.UUID, at: datetime
) -> str:
    async with platform_session() as ps:
        tenant = await ps.get(Tenant, tenant_id)
    zone = zone_or_utc(tenant.timezone if tenant else None)
    async with tenant_session(tenant_id) as s:
        sch = (
            await s.exec(
                select(Schedule).where(Schedule.id == schedule_id).with_for_update()
            )
        ).first()
        if sch is None or sch.status != "active" or sch.starts_at != at:
            return "stale"  # cancelled or moved: the new time has its own job
        if sch.reminder_sent_at is not None and sch.reminder_sent_at >= at:
            return "already sent"
        if at < utcnow() - REMINDER_GRACE:
            return "missed"  # long past (worker down for hours): not noise now
        everyone = await load_everyone(s, tenant_id)
        sent = await notify_users(
            s,
            tenant_id,
            everyone.reach(sch.audience),
            kind="reminder",
            title=f"Reminder: {sch.title}",
            body=sch.title,
            dedupe_key=f"reminder:{sch.id}:{int(at.timestamp())}",
            data={"schedule_id": str(sch.id), "starts_at": at.isoformat()},
        )
        sch.reminder_sent_at = utcnow()
        if sch.recurrence:
            next_at = next_occurrence(sch.recurrence, zone, at)
            sch.starts_at = next_at
            sid = sch.id
            after_commit(s, lambda: enqueue_reminder(tenant_id, sid, next_at))
        s.add(sch)
    return f"sent to {len(sent)}"
