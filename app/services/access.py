"""Fetch one tenant-owned object for an actor, or NotFound.

Missing, another tenant's and "not yours" all raise the same NotFound, so an id is
never confirmed. Every route and Reflex event that takes an id from a client loads
it through one of these, inside the caller's tenant_session (RLS behind it).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain.actor import Actor
from app.domain.errors import NotFound
from app.domain.models import (
    ApiKey,
    Conversation,
    Message,
    Notification,
    Property,
    PropertyService,
    PushSubscription,
    Task,
    TeamMember,
    Unit,
    User,
)
from app.domain.roles import Role

T = TypeVar("T", bound=SQLModel)


async def _get(session: AsyncSession, model: type[T], actor: Actor, id_: Any) -> T:
    try:
        key = id_ if isinstance(id_, uuid.UUID) else uuid.UUID(str(id_))
    except ValueError as exc:
        raise NotFound("Not found.") from exc
    row = await session.get(model, (actor.tenant_id, key))
    if row is None or getattr(row, "tenant_id", None) != actor.tenant_id:
        raise NotFound("Not found.")
    return row


async def task_scope(session: AsyncSession, actor: Actor) -> ColumnElement[bool]:
    """SQL condition: the tasks this actor may see.

    Managers and admins: all. Employees: assigned to them or their teams, or created
    by them. Residents: created by or assigned to them, or about their unit.
    """
    uid = actor.user_id
    mine = or_(col(Task.assignee_user_id) == uid, col(Task.created_by) == uid)
    if actor.can_approve:
        return col(Task.tenant_id) == actor.tenant_id
    if actor.role == Role.employee.value:
        teams = select(TeamMember.team_id).where(
            TeamMember.tenant_id == actor.tenant_id, TeamMember.user_id == uid
        )
        return or_(mine, col(Task.assignee_team_id).in_(teams))
    if actor.role == Role.resident.value:
        user = await session.get(User, (actor.tenant_id, uid))
        if user is not None and user.unit_id is not None:
            return or_(mine, col(Task.unit_id) == user.unit_id)
        return mine
    return false()


async def access_task(session: AsyncSession, actor: Actor, task_id: Any) -> Task:
    task = await _get(session, Task, actor, task_id)
    visible = (
        await session.exec(
            select(Task.id).where(Task.id == task.id, await task_scope(session, actor))
        )
    ).first()
    if visible is None:
        raise NotFound("Not found.")
    return task


async def _get_own(session: AsyncSession, model: type[T], actor: Actor, id_: Any) -> T:
    """A row that belongs to the caller (a user_id column); anyone else's: 404."""
    row = await _get(session, model, actor, id_)
    if getattr(row, "user_id", None) != actor.user_id:
        raise NotFound("Not found.")
    return row


async def access_notification(
    session: AsyncSession, actor: Actor, notification_id: Any
) -> Notification:
    return await _get_own(session, Notification, actor, notification_id)


async def access_push_subscription(
    session: AsyncSession, actor: Actor, subscription_id: Any
) -> PushSubscription:
    return await _get_own(session, PushSubscription, actor, subscription_id)


async def access_message(
    session: AsyncSession, actor: Actor, message_id: Any
) -> Message:
    """A message of the caller's own conversation (theirs or the assistant's)."""
    row = await _get(session, Message, actor, message_id)
    conv = await session.get(Conversation, (actor.tenant_id, row.conversation_id))
    if conv is None or conv.user_id != actor.user_id:
        raise NotFound("Not found.")
    return row


async def access_user(session: AsyncSession, actor: Actor, user_id: Any) -> User:
    """Admins reach any user of their tenant; others only themselves."""
    row = await _get(session, User, actor, user_id)
    if not actor.is_admin and row.id != actor.user_id:
        raise NotFound("Not found.")
    return row


async def access_api_key(session: AsyncSession, actor: Actor, key_id: Any) -> ApiKey:
    if not actor.is_admin:
        raise NotFound("Not found.")
    return await _get(session, ApiKey, actor, key_id)


# Properties, their units and recurring services: the console's, so admins and
# managers (who read them) reach them; everyone else is told "not found".


async def access_property(
    session: AsyncSession, actor: Actor, property_id: Any
) -> Property:
    if not actor.can_approve:
        raise NotFound("Not found.")
    return await _get(session, Property, actor, property_id)


async def access_unit(session: AsyncSession, actor: Actor, unit_id: Any) -> Unit:
    if not actor.can_approve:
        raise NotFound("Not found.")
    return await _get(session, Unit, actor, unit_id)


async def access_property_service(
    session: AsyncSession, actor: Actor, service_id: Any
) -> PropertyService:
    if not actor.can_approve:
        raise NotFound("Not found.")
    return await _get(session, PropertyService, actor, service_id)
