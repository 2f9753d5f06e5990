"""What the assistant did for a message, as cards under its reply.

One card per proposed action of the caller's own messages: task created (assignee,
due, place), linked to an open task, notified (whom), scheduled (when, audience),
waiting for approval (by whom), refused (why), declined or expired. Read from the
action rows and what they created, so a card never claims more than happened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.models import (
    ActionStatus,
    Approval,
    Conversation,
    Message,
    Property,
    ProposedAction,
    Schedule,
    Task,
    Team,
    Unit,
    User,
)
from app.services.approvals import approvers
from app.services.requests import request_status


@dataclass(frozen=True)
class ActionCard:
    message_id: uuid.UUID  # the user's message the actions came from
    kind: str  # task | linked | notified | scheduled | waiting | refused | ...
    text: str
    task_id: uuid.UUID | None = None


def _short(ts: datetime | None, zone: tzinfo) -> str:
    return ts.astimezone(zone).strftime("%a %d %b %H:%M") if ts else ""


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class _Names:
    """Names of people, teams and places of the tenant, by id."""

    def __init__(self, rows: dict[uuid.UUID, str]) -> None:
        self.rows = rows

    @classmethod
    async def load(cls, s: AsyncSession) -> _Names:
        rows: dict[uuid.UUID, str] = {}
        for model, label in (
            (User, User.name),
            (Team, Team.name),
            (Property, Property.name),
            (Unit, Unit.label),
        ):
            rows.update(
                (i, str(n)) for i, n in (await s.exec(select(model.id, label))).all()
            )
        return cls(rows)

    def of(self, *ids: Any) -> str:
        return ", ".join(
            self.rows[i] for i in map(_uuid, ids) if i is not None and i in self.rows
        )


async def action_cards(
    actor: Actor, message_ids: list[uuid.UUID], zone: tzinfo
) -> list[ActionCard]:
    """Cards for the actions of these messages of the caller's own conversation."""
    if not message_ids:
        return []
    async with tenant_session(actor.tenant_id) as s:
        own = select(Message.id).where(
            col(Message.id).in_(message_ids),
            col(Message.conversation_id).in_(
                select(Conversation.id).where(Conversation.user_id == actor.user_id)
            ),
        )
        actions = (
            await s.exec(
                select(ProposedAction)
                .where(col(ProposedAction.message_id).in_(own))
                .order_by(col(ProposedAction.position))
            )
        ).all()
        if not actions:
            return []
        names = await _Names.load(s)
        results = [a.result or {} for a in actions]
        task_ids = list(filter(None, (_uuid(r.get("task")) for r in results)))
        schedule_ids = list(filter(None, (_uuid(r.get("schedule")) for r in results)))
        found_tasks = await s.exec(select(Task).where(col(Task.id).in_(task_ids)))
        tasks = {t.id: t for t in found_tasks.all()}
        found_schedules = await s.exec(
            select(Schedule).where(col(Schedule.id).in_(schedule_ids))
        )
        schedules = {x.id: x for x in found_schedules.all()}
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
        cards = []
        for action, result in zip(actions, results, strict=True):
            approval = approvals.get(action.id)
            waiting_for = ""
            if action.status == ActionStatus.pending_approval.value and approval:
                waiting_for = names.of(
                    *await approvers(s, approval.required_role, approval.requested_by)
                )
            cards.append(
                _card(
                    action,
                    result,
                    tasks.get(_uuid(result.get("task")) or uuid.UUID(int=0)),
                    schedules.get(_uuid(result.get("schedule")) or uuid.UUID(int=0)),
                    approval,
                    waiting_for,
                    names,
                    zone,
                )
            )
    return cards


def _card(
    action: ProposedAction,
    result: dict[str, Any],
    task: Task | None,
    schedule: Schedule | None,
    approval: Approval | None,
    waiting_for: str,
    names: _Names,
    zone: tzinfo,
) -> ActionCard:
    p: dict[str, Any] = action.payload or {}
    mid = action.message_id
    status = action.status
    what = str(p.get("title") or p.get("service_name") or action.type)
    if status == ActionStatus.rejected.value:
        reason = str((action.verdict or {}).get("reason") or "not allowed")
        return ActionCard(mid, "refused", f"Not done: {what}: {reason}")
    if status == ActionStatus.pending_approval.value:
        by = waiting_for or (approval.required_role if approval else "a manager")
        return ActionCard(mid, "waiting", f"Waiting for approval by {by}: {what}")
    if status == ActionStatus.discarded.value:
        by = names.of(approval.decided_by) if approval else ""
        return ActionCard(mid, "declined", f"Declined by {by or 'a manager'}: {what}")
    if status in (ActionStatus.expired.value, ActionStatus.failed.value):
        return ActionCard(mid, status, f"Not done ({status}): {what}")
    if status != ActionStatus.executed.value:
        return ActionCard(mid, "pending", f"Working on it: {what}")
    if task is not None:
        state = request_status(
            action, approval.status if approval else None, task, None
        )
        if result.get("linked") == "1":
            text = f"Added to the open task: {task.title} ({state})"
            return ActionCard(mid, "linked", text, task.id)
        parts = [
            f"Task: {task.title}",
            names.of(task.assignee_user_id, task.assignee_team_id),
            f"due {_short(task.due_at, zone)}" if task.due_at else "",
            names.of(task.property_id, task.unit_id).replace(", ", " · "),
            state,
        ]
        return ActionCard(mid, "task", " · ".join(x for x in parts if x), task.id)
    if action.type == "notify":
        return ActionCard(
            mid, "notified", f"Notified: {names.of(*p.get('recipient_user_ids', []))}"
        )
    if schedule is not None:
        audience = names.of(*p.get("audience_user_ids", []))
        parts = [
            f"Scheduled: {schedule.title}",
            _short(schedule.starts_at, zone),
            f"for {audience}" if audience else "",
        ]
        return ActionCard(mid, "scheduled", " · ".join(x for x in parts if x))
    if action.type == "cancel_service":
        return ActionCard(mid, "cancelled", f"Cancelled: {what}")
    return ActionCard(mid, "done", f"Done: {what}")
