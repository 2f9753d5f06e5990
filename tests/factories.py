"""Factories: one valid row of every tenant-owned table, for any demo tenant."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain import models as m
from app.services.messages import conversation_for


async def one_of_everything(
    session: AsyncSession, tenant_id: uuid.UUID
) -> dict[str, Any]:
    """Insert a row in every tenant-owned table (reusing demo people and places)."""
    user = (await session.exec(select(m.User).where(m.User.role != "resident"))).first()
    team = (await session.exec(select(m.Team))).first()
    assert user is not None and team is not None
    suffix = uuid.uuid4().hex[:8]
    tag = f"factory-{suffix}"
    prop = m.Property(tenant_id=tenant_id, slug=tag, name="Factory House")
    session.add(prop)
    await session.flush()
    unit = m.Unit(tenant_id=tenant_id, property_id=prop.id, label="9Z")
    session.add(unit)
    new_team = m.Team(tenant_id=tenant_id, slug=tag, name="Factory team")
    new_user = m.User(
        tenant_id=tenant_id,
        handle=tag,
        email=f"{tag}@example.test",
        name="Factory",
        role="resident",
        password_hash="x",
        property_id=prop.id,
        unit_id=unit.id,
    )
    session.add_all([new_team, new_user])
    await session.flush()
    conv = await conversation_for(session, tenant_id, user.id)  # one per user
    msg = m.Message(
        tenant_id=tenant_id,
        conversation_id=conv.id,
        sender_user_id=user.id,
        sender_key=f"user:{user.id}",
        client_message_id=tag,
        body="factory message",
    )
    session.add(msg)
    await session.flush()
    action = m.ProposedAction(
        tenant_id=tenant_id,
        message_id=msg.id,
        type="notify",
        payload={},
        payload_hash="0" * 64,
        status="pending_approval",
        requested_by=user.id,
    )
    note = m.Notification(
        tenant_id=tenant_id,
        user_id=user.id,
        kind="system",
        title="factory",
        dedupe_key=tag,
    )
    subscription = m.PushSubscription(
        tenant_id=tenant_id,
        user_id=user.id,
        endpoint=f"https://push.test/{tag}",
        p256dh="k",
        auth="a",
    )
    session.add_all([action, note, subscription])
    await session.flush()
    rows: list[Any] = [
        m.PushDelivery(
            tenant_id=tenant_id,
            notification_id=note.id,
            subscription_id=subscription.id,
        ),
        m.TeamMember(tenant_id=tenant_id, team_id=new_team.id, user_id=new_user.id),
        m.PropertyService(tenant_id=tenant_id, property_id=prop.id, name="Windows"),
        m.Memory(
            tenant_id=tenant_id,
            scope="tenant",
            text=f"factory memory {tag}",
            source_type="test",
            source_id=tag,
        ),
        m.Task(tenant_id=tenant_id, title="factory task", assignee_team_id=team.id),
        m.Schedule(tenant_id=tenant_id, title="factory schedule"),
        m.ServiceLog(tenant_id=tenant_id, property_id=prop.id, service_name="Windows"),
        m.AssistantRun(tenant_id=tenant_id, message_id=msg.id),
        m.Approval(
            tenant_id=tenant_id,
            action_id=action.id,
            required_role="manager",
            requested_by=user.id,
            payload_hash="0" * 64,
            expires_at=m.utcnow() + timedelta(hours=48),
        ),
        note,
        subscription,
        m.AuditEvent(tenant_id=tenant_id, actor="system", kind="factory"),
        m.LlmUsage(tenant_id=tenant_id, model="factory"),
        m.RefreshToken(
            tenant_id=tenant_id,
            user_id=user.id,
            family_id=uuid.uuid4(),
            token_hash=tag,
            expires_at=m.utcnow() + timedelta(days=1),
        ),
        m.ApiKey(tenant_id=tenant_id, name=tag, prefix="sk_", key_hash=tag),
    ]
    session.add_all(rows)
    await session.flush()
    return {"user": user, "message": msg, "tag": tag}


async def long_conversation(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    count: int,
    step: timedelta = timedelta(minutes=20),
) -> list[m.Message]:
    """`count` answered messages in a person's chat, "History 001" oldest, user
    and assistant in turn, `step` apart and ending now (20 minutes apart, 200 of
    them span three days, so the day separators show)."""
    conv = await conversation_for(session, tenant_id, user_id)
    start = m.utcnow() - step * count
    tag = uuid.uuid4().hex[:8]
    rows = []
    for i in range(count):
        mine = i % 2 == 0
        rows.append(
            m.Message(
                tenant_id=tenant_id,
                conversation_id=conv.id,
                sender_user_id=user_id if mine else None,
                sender_key=f"user:{user_id}" if mine else "assistant",
                author="user" if mine else "assistant",
                client_message_id=f"history-{tag}-{i}",
                body=f"History {i + 1:03d}",
                source="chat" if mine else "assistant",
                status=m.MessageStatus.done.value,
                created_at=start + step * i,
                updated_at=start + step * i,
            )
        )
    session.add_all(rows)
    await session.flush()
    return rows
