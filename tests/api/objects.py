"""Helpers for API tests: tokens for demo users and rows to point ids at."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import SQLModel

from app.core.db import tenant_session
from app.core.tokens import issue_access_token, issue_operator_token
from app.domain.actor import Actor
from app.domain.models import (
    Approval,
    Conversation,
    Message,
    Notification,
    ProposedAction,
    PushSubscription,
    Task,
    User,
    utcnow,
)
from app.services.execution import payload_hash

PASSWORD = "switchboard-demo"


def actor(user: User) -> Actor:
    return Actor(tenant_id=user.tenant_id, user_id=user.id, role=user.role)


def auth(user: User) -> dict[str, str]:
    token, _ = issue_access_token(user.tenant_id, user.id, user.role)
    return {"Authorization": f"Bearer {token}"}


def operator_auth(operator_id: uuid.UUID) -> dict[str, str]:
    token, _ = issue_operator_token(operator_id)
    return {"Authorization": f"Bearer {token}"}


def tag() -> str:
    return uuid.uuid4().hex[:10]


async def add(tenant_id: uuid.UUID, *rows: SQLModel) -> None:
    async with tenant_session(tenant_id) as s:
        s.add_all(rows)


async def reload(row: Any) -> Any:
    """The row as the database has it now (None if gone)."""
    async with tenant_session(row.tenant_id) as s:
        return await s.get(type(row), (row.tenant_id, row.id))


async def message(user: User, body: str = "hello", author: str = "user") -> Message:
    """A message in `user`'s conversation (author "assistant" for a reply)."""
    async with tenant_session(user.tenant_id) as s:
        from app.services.messages import conversation_for

        conv: Conversation = await conversation_for(s, user.tenant_id, user.id)
        row = Message(
            tenant_id=user.tenant_id,
            conversation_id=conv.id,
            sender_user_id=user.id if author == "user" else None,
            sender_key=f"user:{user.id}" if author == "user" else "assistant",
            author=author,
            client_message_id=tag(),
            body=body,
            status="done",
        )
        s.add(row)
    return row


async def task(tenant_id: uuid.UUID, **fields: Any) -> Task:
    row = Task(tenant_id=tenant_id, title=fields.pop("title", "Fix the door"), **fields)
    await add(tenant_id, row)
    return row


async def notification(user: User, title: str = "Heads up") -> Notification:
    row = Notification(
        tenant_id=user.tenant_id,
        user_id=user.id,
        kind="notify",
        title=title,
        dedupe_key=tag(),
    )
    await add(user.tenant_id, row)
    return row


async def push_subscription(user: User) -> PushSubscription:
    row = PushSubscription(
        tenant_id=user.tenant_id,
        user_id=user.id,
        endpoint=f"https://push.example.net/{tag()}",
        p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u",
        auth="tBHItJI5svbpez7KI4CCXg",
    )
    await add(user.tenant_id, row)
    return row


async def approval(requester: User, title: str = "Buy a new fridge") -> Approval:
    """A pending approval for a create_task action requested by `requester`."""
    msg = await message(requester, f"Please: {title}")
    payload = {"title": title}
    action = ProposedAction(
        tenant_id=requester.tenant_id,
        message_id=msg.id,
        type="create_task",
        payload=payload,
        payload_hash=payload_hash(payload),
        requested_by=requester.id,
        status="pending_approval",
    )
    await add(requester.tenant_id, action)
    row = Approval(
        tenant_id=requester.tenant_id,
        action_id=action.id,
        required_role="manager",
        requested_by=requester.id,
        payload_hash=action.payload_hash,
        summary=title,
        expires_at=utcnow() + timedelta(hours=1),
    )
    await add(requester.tenant_id, row)
    return row
