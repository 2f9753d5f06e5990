"""The organisation's live data a message may need, for the prompt's context:
what is coming up, the sender's own requests and their status, and (for staff)
their teams' open tasks.

Read through the sender's tenant session (row-level security) and filtered to what
the sender may see: a resident sees the schedules addressed to them, their unit or
their building, and only the requests they made. Only a question gets it (that is
what answers "What's on this week?" or "Is my sink fixed?"); an instruction does not
need it, which keeps the prompt small.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agents import cues
from app.domain.directory import Directory
from app.domain.models import Schedule, Task

UPCOMING_DAYS = 7
# Nearest first; every entry is paid on every question (prompt p95 <= 1,500).
MAX_UPCOMING = 5
MAX_REQUESTS = 3
MAX_TEAM_TASKS = 5
OPEN = ("open", "in_progress")
RECENT_DONE = timedelta(days=14)


def wants_org_data(text: str) -> bool:
    return cues.is_question(text)


def _label(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%a %d %b %H:%M") if at else ""


def _sees(directory: Directory, sch: Schedule) -> bool:
    """Whether the sender may see a schedule entry."""
    sender = directory.sender
    if sender.is_staff:
        return True
    refs = set(sch.audience or [])
    own = {f"user:{sender.handle}", "role:resident"}
    if sender.property:
        own.add(f"property:{sender.property}")
    prop = directory.property(sender.property) if sender.property else None
    in_building = prop is not None and sch.property_id == prop.id
    return (
        bool(refs & own)
        or sch.created_by == sender.id
        or (in_building and sch.unit_id is None and sch.kind != "entry_permission")
    )


def _assignee(directory: Directory, task: Task) -> str:
    if task.assignee_team_id is not None:
        team = next((t for t in directory.teams if t.id == task.assignee_team_id), None)
        return team.name if team else "a team"
    if task.assignee_user_id is not None:
        person = directory.person_by_id(task.assignee_user_id)
        return person.name if person else "a colleague"
    return ""


def _task(directory: Directory, task: Task, tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"title": task.title, "status": task.status}
    who = _assignee(directory, task)
    if who:
        out["assignee"] = who
    if task.due_at:
        out["due"] = _label(task.due_at, tz)
    out["created"] = task.created_at.astimezone(tz).strftime("%a %d %b")
    return out


async def load_org_data(
    session: AsyncSession,
    directory: Directory,
    now_utc: datetime,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """Upcoming schedules, the sender's requests and their teams' open tasks."""
    tid = directory.tenant.id
    sender = directory.sender
    schedules = (
        await session.exec(
            select(Schedule)
            .where(
                Schedule.tenant_id == tid,
                Schedule.status == "active",
                col(Schedule.starts_at) >= now_utc,
                col(Schedule.starts_at) <= now_utc + timedelta(days=UPCOMING_DAYS),
            )
            .order_by(col(Schedule.starts_at))
            .limit(MAX_UPCOMING * 4)
        )
    ).all()
    upcoming = [
        {"title": s.title, "when": _label(s.starts_at, tz), "kind": s.kind}
        for s in schedules
        if _sees(directory, s)
    ][:MAX_UPCOMING]
    mine = (
        await session.exec(
            select(Task)
            .where(
                Task.tenant_id == tid,
                Task.created_by == sender.id,
                col(Task.updated_at) >= now_utc - RECENT_DONE,
            )
            .order_by(col(Task.created_at).desc())
            .limit(MAX_REQUESTS)
        )
    ).all()
    out: dict[str, Any] = {
        "upcoming": upcoming,
        "my_requests": [_task(directory, t, tz) for t in mine],
    }
    if sender.is_staff:
        team_ids: list[uuid.UUID] = [
            t.id for t in directory.teams if sender.id in t.member_ids
        ]
        owners = col(Task.assignee_user_id) == sender.id
        if team_ids:
            owners = owners | col(Task.assignee_team_id).in_(team_ids)
        tasks = (
            await session.exec(
                select(Task)
                .where(Task.tenant_id == tid, col(Task.status).in_(OPEN), owners)
                .order_by(col(Task.created_at).desc())
                .limit(MAX_TEAM_TASKS)
            )
        ).all()
        out["team_tasks"] = [_task(directory, t, tz) for t in tasks]
    return out
