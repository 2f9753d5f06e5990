"""Approvals: a critical action waits, stored with the hash of its exact payload,
until a member of the required role (never the requester) approves or rejects it.
Approve executes exactly that payload; pending approvals expire."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.core.settings import get_settings
from app.domain.actor import Actor
from app.domain.errors import Conflict, Forbidden, NotFound
from app.domain.models import (
    ActionStatus,
    Approval,
    ApprovalStatus,
    Message,
    ProposedAction,
    User,
    utcnow,
)
from app.domain.roles import Role
from app.services import audit
from app.services.execution import execute_action, payload_hash
from app.services.notifications import notify_users
from app.services.requests import tell

log = logging.getLogger(__name__)


async def approvers(
    session: AsyncSession, required_role: str, requester: uuid.UUID | None
) -> list[uuid.UUID]:
    """Active members of the role, never the requester; admins if there are none."""
    for role in (required_role, Role.admin.value):
        rows = (
            await session.exec(
                select(User.id).where(User.role == role, col(User.disabled).is_(False))
            )
        ).all()
        ids = [u for u in rows if u != requester]
        if ids:
            return ids
    return []


async def request_approval(
    session: AsyncSession,
    action: ProposedAction,
    required_role: str,
    summary: str,
    message_id: uuid.UUID,
) -> Approval:
    existing = (
        await session.exec(select(Approval).where(Approval.action_id == action.id))
    ).first()
    if existing is not None:
        return existing
    ttl = timedelta(hours=get_settings().approval_ttl_hours)
    approval = Approval(
        tenant_id=action.tenant_id,
        action_id=action.id,
        required_role=required_role,
        requested_by=action.requested_by,
        payload_hash=action.payload_hash,
        summary=summary[:500],
        expires_at=utcnow() + ttl,
    )
    session.add(approval)
    await session.flush()
    await notify_users(
        session,
        action.tenant_id,
        await approvers(session, required_role, action.requested_by),
        kind="approval",
        title="Approval needed",
        body=summary,
        dedupe_key=f"msg:{message_id}",
        data={"message_id": str(message_id), "approval_id": str(approval.id)},
    )
    return approval


async def list_pending(actor: Actor) -> list[Approval]:
    if not actor.can_approve:
        raise Forbidden("Only managers and admins can see approvals.")
    async with tenant_session(actor.tenant_id) as s:
        stmt = select(Approval).where(Approval.status == ApprovalStatus.pending.value)
        if not actor.is_admin:
            stmt = stmt.where(Approval.required_role == actor.role)
        rows = (await s.exec(stmt.order_by(col(Approval.created_at)))).all()
    return list(rows)


@dataclass(frozen=True)
class PendingApproval:
    """A pending approval with what a decider needs: who asked, when, what they
    wrote, and the exact action with its amount or target."""

    approval: Approval
    requester: str
    message: str
    action_type: str
    payload: dict[str, Any]


async def list_pending_detailed(actor: Actor) -> list[PendingApproval]:
    rows = await list_pending(actor)
    if not rows:
        return []
    async with tenant_session(actor.tenant_id) as s:
        actions = {
            a.id: a
            for a in (
                await s.exec(
                    select(ProposedAction).where(
                        col(ProposedAction.id).in_([r.action_id for r in rows])
                    )
                )
            ).all()
        }
        bodies = dict(
            (
                await s.exec(
                    select(Message.id, Message.body).where(
                        col(Message.id).in_([a.message_id for a in actions.values()])
                    )
                )
            ).all()
        )
        names = dict(
            (
                await s.exec(
                    select(User.id, User.name).where(
                        col(User.id).in_([r.requested_by for r in rows])
                    )
                )
            ).all()
        )
    out = []
    for r in rows:
        action = actions[r.action_id]
        out.append(
            PendingApproval(
                approval=r,
                requester=str(names.get(r.requested_by, "") if r.requested_by else "")
                or "An integration",
                message=str(bodies.get(action.message_id, "")),
                action_type=action.type,
                payload=dict(action.payload or {}),
            )
        )
    return out


async def decide(actor: Actor, approval_id: uuid.UUID, approve: bool) -> Approval:
    if not actor.can_approve:
        raise Forbidden("Only managers and admins can approve.")
    refusal: Conflict | None = None  # raised after commit: the refusal is recorded
    async with tenant_session(actor.tenant_id) as s:
        approval = (
            await s.exec(
                select(Approval).where(Approval.id == approval_id).with_for_update()
            )
        ).first()
        if approval is None or (
            not actor.is_admin and approval.required_role != actor.role
        ):
            raise NotFound("No such approval.")
        if approval.requested_by == actor.user_id:
            raise Forbidden("You cannot decide on your own request.")
        if approval.status != ApprovalStatus.pending.value:
            raise Conflict(f"This approval is already {approval.status}.")
        action = await s.get(ProposedAction, (actor.tenant_id, approval.action_id))
        assert action is not None  # composite FK
        if approval.expires_at <= utcnow():
            await _close(s, approval, action, ApprovalStatus.expired, None)
            refusal = Conflict("This approval has expired.")
        elif approve and payload_hash(action.payload) != approval.payload_hash:
            # The stored payload changed after the request: run nothing.
            audit.record(
                s,
                actor.tenant_id,
                actor.ref,
                "approval.payload_mismatch",
                f"approval:{approval.id}",
            )
            await _close(s, approval, action, ApprovalStatus.rejected, actor)
            action.status = ActionStatus.failed.value
            action.verdict = {
                **action.verdict,
                "error": "payload changed after request",
            }
            refusal = Conflict(
                "The request changed after it was submitted; nothing ran."
            )
        elif approve:
            await execute_action(
                s,
                action,
                sender_id=action.requested_by,
                dedupe_key=f"approval:{approval.id}",
                message_id=action.message_id,
            )
            await _close(s, approval, action, ApprovalStatus.approved, actor)
        else:
            action.status = ActionStatus.discarded.value
            await _close(s, approval, action, ApprovalStatus.rejected, actor)
    if refusal is not None:
        raise refusal
    return approval


async def _close(
    session: AsyncSession,
    approval: Approval,
    action: ProposedAction,
    status: ApprovalStatus,
    actor: Actor | None,
) -> None:
    approval.status = status.value
    approval.decided_at = utcnow()
    approval.decided_by = actor.user_id if actor else None
    if status == ApprovalStatus.expired:
        action.status = ActionStatus.expired.value
    session.add_all([approval, action])
    audit.record(
        session,
        approval.tenant_id,
        actor.ref if actor else "system",
        f"approval.{status.value}",
        f"approval:{approval.id}",
        {"action_id": str(action.id), "type": action.type},
    )
    if approval.requested_by is None:
        return
    # The decision reaches the requester's chat as well as their alerts.
    if actor is None:
        text = f"Your request expired without a decision: {approval.summary}"
    else:
        who = await session.get(User, (approval.tenant_id, actor.user_id))
        verb = "approved" if status == ApprovalStatus.approved else "declined"
        text = f"{who.name if who else 'A manager'} {verb} your request: "
        text += approval.summary
    await tell(
        session,
        approval.tenant_id,
        [approval.requested_by],
        text,
        kind="approval_result",
        key=f"approval-result:{approval.id}",
        data={"approval_id": str(approval.id), "status": status.value},
    )


async def expire_due(tenant_id: uuid.UUID) -> int:
    """Expire pending approvals past their deadline and tell the requesters."""
    async with tenant_session(tenant_id) as s:
        due = (
            await s.exec(
                select(Approval)
                .where(
                    Approval.status == ApprovalStatus.pending.value,
                    col(Approval.expires_at) <= utcnow(),
                )
                .with_for_update(skip_locked=True)
            )
        ).all()
        for approval in due:
            action = await s.get(ProposedAction, (tenant_id, approval.action_id))
            assert action is not None
            await _close(s, approval, action, ApprovalStatus.expired, None)
    return len(due)
