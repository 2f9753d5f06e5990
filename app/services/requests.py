"""Requests: what someone asked the assistant for, followed until it is done.

No table of its own. A request *is* the proposed action that came from the person's
message (`proposed_actions.requested_by`, `message_id`); its status is read from
what that action led to: the approval waiting on it, the task or schedule it
created (`result`), or the open task it was linked to when the same problem had
already been reported (`result = {"task": <id>, "linked": "1"}`). So the status
shown is always the truth of those rows, never a copy that can drift.

Each change reaches the requester (`tell`): a short assistant message in their
chat, an alert, and a Web Push when their app is closed (notify_users → live event
→ push job, all after commit).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.models import (
    ActionStatus,
    Approval,
    ApprovalStatus,
    Message,
    ProposedAction,
    Schedule,
    Task,
    User,
)
from app.services.messages import post_assistant_note
from app.services.notifications import notify_users

# The action types that are requests with a lifecycle (a relay or a service log is
# done the moment it runs, so it has none).
REQUEST_TYPES = ("create_task", "schedule", "cancel_service")
SHOWN = (
    ActionStatus.executed.value,
    ActionStatus.pending_approval.value,
    ActionStatus.discarded.value,
    ActionStatus.expired.value,
    ActionStatus.failed.value,
)
TASK_STATUS = {"in_progress": "in progress", "done": "done", "cancelled": "cancelled"}
# "Omar marked '...' <word>."
TASK_WORDS = {
    "open": "open again",
    "in_progress": "in progress",
    "done": "done",
    "cancelled": "cancelled",
}
MAX_LIMIT = 100


@dataclass(frozen=True)
class RequestView:
    action_id: uuid.UUID
    kind: str  # Report | Purchase | Entry permission | Cancellation | Schedule
    title: str
    status: str  # received | assigned | waiting for approval | approved | ...
    message: str  # what the person wrote
    created_at: datetime
    task_id: uuid.UUID | None = None
    linked: bool = False  # joined an already open task about the same problem


def request_status(
    action: ProposedAction,
    approval_status: str | None,
    task: Task | None,
    schedule: Schedule | None,
) -> str:
    """The requester's view of where their request is."""
    if action.status == ActionStatus.pending_approval.value:
        return "waiting for approval"
    if action.status == ActionStatus.discarded.value:
        return "rejected"
    if action.status != ActionStatus.executed.value:
        return action.status  # expired | failed
    approved = approval_status == ApprovalStatus.approved.value
    if task is not None:
        if task.status != "open":
            return TASK_STATUS.get(task.status, task.status)
        if approved:
            return "approved"
        assigned = task.assignee_user_id or task.assignee_team_id
        return "assigned" if assigned else "received"
    # A cancellation is done once it ran; a schedule stays until it is cancelled.
    if action.type != "cancel_service" and schedule and schedule.status == "cancelled":
        return "cancelled"
    return "approved" if approved else "done"


def _kind(action: ProposedAction) -> str:
    payload: dict[str, Any] = action.payload or {}
    if action.type == "create_task":
        return "Purchase" if payload.get("cost") is not None else "Report"
    if action.type == "cancel_service":
        return "Cancellation"
    if payload.get("kind") == "entry_permission":
        return "Entry permission"
    return "Schedule"


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


async def list_my_requests(actor: Actor, limit: int = 50) -> list[RequestView]:
    """The caller's own requests, newest first."""
    async with tenant_session(actor.tenant_id) as s:
        actions = (
            await s.exec(
                select(ProposedAction)
                .where(
                    ProposedAction.tenant_id == actor.tenant_id,
                    ProposedAction.requested_by == actor.user_id,
                    col(ProposedAction.type).in_(REQUEST_TYPES),
                    col(ProposedAction.status).in_(SHOWN),
                )
                .order_by(col(ProposedAction.created_at).desc())
                .limit(max(1, min(limit, MAX_LIMIT)))
            )
        ).all()
        results = [a.result or {} for a in actions]
        task_ids = [i for r in results if (i := _uuid(r.get("task")))]
        schedule_ids = [
            i
            for r in results
            if (i := _uuid(r.get("schedule") or r.get("cancellation")))
        ]
        tasks = {
            t.id: t
            for t in (
                await s.exec(select(Task).where(col(Task.id).in_(task_ids)))
            ).all()
        }
        schedules = {
            x.id: x
            for x in (
                await s.exec(select(Schedule).where(col(Schedule.id).in_(schedule_ids)))
            ).all()
        }
        approvals = {
            a.action_id: a
            for a in (
                await s.exec(
                    select(Approval).where(
                        col(Approval.action_id).in_([a.id for a in actions])
                    )
                )
            ).all()
        }
        bodies = dict(
            (
                await s.exec(
                    select(Message.id, Message.body).where(
                        col(Message.id).in_([a.message_id for a in actions])
                    )
                )
            ).all()
        )
    views = []
    for action, result in zip(actions, results, strict=True):
        task = tasks.get(_uuid(result.get("task")) or uuid.UUID(int=0))
        schedule = schedules.get(
            _uuid(result.get("schedule") or result.get("cancellation"))
            or uuid.UUID(int=0)
        )
        approval = approvals.get(action.id)
        title = (
            task.title
            if task
            else schedule.title
            if schedule
            else str((action.payload or {}).get("title") or "")
            or (approval.summary if approval else action.type)
        )
        views.append(
            RequestView(
                action_id=action.id,
                kind=_kind(action),
                title=title,
                status=request_status(
                    action, approval.status if approval else None, task, schedule
                ),
                message=str(bodies.get(action.message_id, "")),
                created_at=action.created_at,
                task_id=task.id if task else None,
                linked=result.get("linked") == "1",
            )
        )
    return views


async def requesters_of_task(session: AsyncSession, task: Task) -> list[uuid.UUID]:
    """Everyone who asked for this task: its creator and whoever's report was
    linked to it."""
    linked = (
        await session.exec(
            select(ProposedAction.requested_by).where(
                ProposedAction.tenant_id == task.tenant_id,
                ProposedAction.type == "create_task",
                ProposedAction.status == ActionStatus.executed.value,
                col(ProposedAction.result)["task"].astext == str(task.id),
            )
        )
    ).all()
    people = [task.created_by, *linked]
    return [u for u in dict.fromkeys(people) if u is not None]


async def tell(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_ids: list[uuid.UUID],
    text: str,
    *,
    kind: str,
    key: str,
    data: dict[str, Any],
) -> None:
    """News about a request, to the people who asked: a chat message and an alert
    (Web Push follows the alert), once per `key` (≤ 60 chars) and person."""
    for user_id in user_ids:
        await post_assistant_note(session, tenant_id, user_id, text, key)
    await notify_users(
        session,
        tenant_id,
        user_ids,
        kind=kind,
        title=text,
        body="",
        dedupe_key=key,
        data=data,
    )


async def task_changed(session: AsyncSession, task: Task, actor: Actor) -> None:
    """Tell the task's requesters (not the person who changed it) its new status:
    "Omar Haddad marked 'Kitchen sink leaking' done." """
    people = [u for u in await requesters_of_task(session, task) if u != actor.user_id]
    if not people:
        return
    who = await session.get(User, (actor.tenant_id, actor.user_id))
    name = who.name if who else "Staff"
    word = TASK_WORDS.get(task.status, task.status)
    await tell(
        session,
        task.tenant_id,
        people,
        f"{name} marked '{task.title}' {word}.",
        kind="request",
        key=f"task:{uuid.uuid4().hex}",
        data={"task_id": str(task.id), "status": task.status},
    )


async def linked_note(session: AsyncSession, action: ProposedAction) -> str:
    """What a reporter reads when their report joined an open task ("" if it did
    not)."""
    result = action.result or {}
    task_id = _uuid(result.get("task"))
    if result.get("linked") != "1" or task_id is None:
        return ""
    task = await session.get(Task, (action.tenant_id, task_id))
    if task is None:
        return ""
    status = request_status(action, None, task, None)
    return (
        f"This was already reported, so I added your report to the open task "
        f"'{task.title}' ({status}). You will hear when it changes."
    )
