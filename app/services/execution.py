"""Running a validated action, inside the caller's transaction.

Input is the *resolved* payload the validator produced (ids inside the tenant,
times in UTC) and stored with the action; approval runs exactly that payload,
checked against its hash. What each type writes is its registry module's
`execute` (app/domain/actions); this module gives it the Effects it writes through:
rows carrying `source_action_id` (unique per tenant, so running an action twice
writes it once), notifications once per cause and recipient, reminders queued
after commit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import after_commit
from app.core.live import LiveEvent, emit
from app.core.queue import enqueue_reminders
from app.domain.actions import load_payload, spec_for
from app.domain.models import ActionStatus, ProposedAction, Task, TeamMember, utcnow
from app.domain.similarity import same_problem
from app.services.notifications import notify_users

OPEN_TASK = ("open", "in_progress")
# How many open tasks at one place are compared with a new report.
MAX_OPEN_AT_PLACE = 100


def payload_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _SessionEffects:
    """Effects (app/domain/actions/base.py) on one session, for one action."""

    def __init__(
        self,
        session: AsyncSession,
        action: ProposedAction,
        sender_id: uuid.UUID | None,
        dedupe_key: str,
        message_id: uuid.UUID | None,
    ) -> None:
        self.session = session
        self.action = action
        self._sender_id = sender_id
        self.dedupe_key = dedupe_key
        self.data = {
            "message_id": str(message_id) if message_id else None,
            "action": action.type,
        }

    @property
    def sender_id(self) -> uuid.UUID | None:
        return self._sender_id

    async def insert_once(
        self, table: type[SQLModel], values: dict[str, Any]
    ) -> uuid.UUID:
        tid, action_id = self.action.tenant_id, self.action.id
        stmt = (
            insert(table)
            .values(
                tenant_id=tid, id=uuid.uuid4(), source_action_id=action_id, **values
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "source_action_id"])
            .returning(table.id)  # type: ignore[attr-defined]
        )
        row_id = (await self.session.execute(stmt)).scalar()
        if row_id is None:  # an earlier run of this action wrote it
            row_id = (
                await self.session.exec(
                    select(table.id).where(  # type: ignore[attr-defined]
                        table.tenant_id == tid,  # type: ignore[attr-defined]
                        table.source_action_id == action_id,  # type: ignore[attr-defined]
                    )
                )
            ).one()
        return uuid.UUID(str(row_id))

    async def notify(
        self,
        user_ids: Iterable[uuid.UUID],
        *,
        kind: str,
        title: str,
        body: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        await notify_users(
            self.session,
            self.action.tenant_id,
            # Nobody is told of their own news.
            [u for u in user_ids if u != self._sender_id],
            kind=kind,
            title=title,
            body=body,
            dedupe_key=self.dedupe_key,
            data={**self.data, **(data or {})},
        )

    def remind(self, schedule_id: uuid.UUID, at: datetime) -> None:
        tid = self.action.tenant_id
        after_commit(self.session, lambda: enqueue_reminders(tid, [(schedule_id, at)]))

    async def open_task_like(
        self, title: str, property_id: uuid.UUID, unit_id: uuid.UUID | None
    ) -> uuid.UUID | None:
        unit = (
            col(Task.unit_id).is_(None) if unit_id is None else Task.unit_id == unit_id
        )
        rows = (
            await self.session.exec(
                select(Task.id, Task.title)
                .where(
                    Task.tenant_id == self.action.tenant_id,
                    Task.property_id == property_id,
                    unit,
                    col(Task.status).in_(OPEN_TASK),
                )
                .order_by(col(Task.created_at))
                .limit(MAX_OPEN_AT_PLACE)
            )
        ).all()
        return next((i for i, t in rows if same_problem(title, t)), None)


async def announce_new_task(
    session: AsyncSession, task_id: uuid.UUID, sender_id: uuid.UUID | None
) -> None:
    """Tell the task's assignees (the person, or the team's members) live, so an open
    task list shows it and a toast says what arrived. No alert row: the message that
    caused the task already reaches them as an alert when it asks for one."""
    task = (await session.exec(select(Task).where(Task.id == task_id))).one()
    users = [task.assignee_user_id] if task.assignee_user_id else []
    if task.assignee_team_id is not None:
        users += (
            await session.exec(
                select(TeamMember.user_id).where(
                    TeamMember.team_id == task.assignee_team_id
                )
            )
        ).all()
    data = {"task_id": str(task.id)}
    title = f"New task: {task.title}"
    emit(
        session,
        task.tenant_id,
        [
            LiveEvent(u, "task_new", None, title, data)
            for u in dict.fromkeys(users)
            if u != sender_id
        ],
    )


async def execute_action(
    session: AsyncSession,
    action: ProposedAction,
    *,
    sender_id: uuid.UUID | None,
    dedupe_key: str,
    message_id: uuid.UUID | None,
) -> dict[str, str]:
    """Perform `action` inside the caller's transaction and mark it executed.
    Returns what it created (kind → row id)."""
    spec = spec_for(action.type)  # KeyError: validation never lets one through
    payload = load_payload(action.type, action.payload)
    effects = _SessionEffects(session, action, sender_id, dedupe_key, message_id)
    created = await spec.execute(payload, effects)
    if "task" in created and "linked" not in created:
        await announce_new_task(session, uuid.UUID(created["task"]), sender_id)
    action.status = ActionStatus.executed.value
    action.executed_at = utcnow()
    action.result = created
    session.add(action)
    return created
