"""/api/v1/tasks: tasks as the caller may see them (residents: only their own)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentActor
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.schemas import TaskOut, TaskStatus, TaskStatusIn
from app.services import tasks

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskOut], responses=AUTH_ERRORS)
async def list_tasks(
    actor: CurrentActor,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TaskOut]:
    """Managers and admins: all tasks. Employees: theirs and their teams'.
    Residents: the ones they asked for, are assigned or concern their unit."""
    rows = await tasks.list_tasks(actor, status=status, limit=limit)
    return [TaskOut.model_validate(t) for t in rows]


@router.get(
    "/{task_id}", response_model=TaskOut, responses={**AUTH_ERRORS, **errors(404)}
)
async def get_task(task_id: uuid.UUID, actor: CurrentActor) -> TaskOut:
    return TaskOut.model_validate(await tasks.get_task(actor, task_id))


@router.patch(
    "/{task_id}",
    response_model=TaskOut,
    responses={**AUTH_ERRORS, **errors(403, 404)},
)
async def update_task(
    task_id: uuid.UUID, body: TaskStatusIn, actor: CurrentActor
) -> TaskOut:
    """Change the status. Staff who can see the task may; residents may only cancel
    a task they asked for (403 otherwise)."""
    return TaskOut.model_validate(
        await tasks.update_task_status(actor, task_id, body.status)
    )
