"""Tasks as people see them: scoped lists and status changes."""

from __future__ import annotations

import uuid

from sqlmodel import col, select

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import Forbidden, Invalid
from app.domain.models import Property, Task, Team, Unit, utcnow
from app.services import audit
from app.services.access import access_task, task_scope
from app.services.requests import task_changed

STATUSES = ("open", "in_progress", "done", "cancelled")
MAX_LIMIT = 200


async def list_tasks(
    actor: Actor, status: str | None = None, limit: int = 50
) -> list[Task]:
    """The tasks the actor may see (see access.task_scope), newest first."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}.")
    async with tenant_session(actor.tenant_id) as s:
        stmt = select(Task).where(
            Task.tenant_id == actor.tenant_id, await task_scope(s, actor)
        )
        if status is not None:
            stmt = stmt.where(Task.status == status)
        stmt = stmt.order_by(col(Task.created_at).desc()).limit(
            max(1, min(limit, MAX_LIMIT))
        )
        return list((await s.exec(stmt)).all())


async def get_task(actor: Actor, task_id: uuid.UUID) -> Task:
    async with tenant_session(actor.tenant_id) as s:
        return await access_task(s, actor, task_id)


async def update_task_status(actor: Actor, task_id: uuid.UUID, status: str) -> Task:
    """Staff who can see a task may move it; residents may only cancel their own."""
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}.")
    async with tenant_session(actor.tenant_id) as s:
        task = await access_task(s, actor, task_id)
        if not actor.is_staff and not (
            status == "cancelled" and task.created_by == actor.user_id
        ):
            raise Forbidden("Residents can only cancel tasks they asked for.")
        if task.status != status:
            previous = task.status
            task.status = status
            task.updated_at = utcnow()
            s.add(task)
            audit.record(
                s,
                actor.tenant_id,
                actor.ref,
                "task.status",
                f"task:{task.id}",
                {"from": previous, "to": status},
            )
            await task_changed(s, task, actor)
    return task


async def place_and_team_names(actor: Actor) -> dict[uuid.UUID, str]:
    """Names of the caller's tenant's properties, units and teams, by id."""
    async with tenant_session(actor.tenant_id) as s:
        props = (await s.exec(select(Property.id, Property.name))).all()
        units = (await s.exec(select(Unit.id, Unit.label))).all()
        teams = (await s.exec(select(Team.id, Team.name))).all()
    return {i: str(n) for i, n in (*props, *units, *teams)}
