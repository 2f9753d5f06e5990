"""The audit chain of one message, for the admin console: why the assistant did what
it did, from any link of the chain (the message, an action, an approval, a
notification, a created task/schedule/service log).

    message + sender → run (memories retrieved with scope and score, withheld or
    not, prompt) → model calls (tokens, cost, latency) → proposed actions (JSON,
    verdict and reason) → approval (who, when, payload hash) → execution result →
    notifications (pushed or not) → audit events

Admins of the message's tenant only: everything is read in the caller's tenant
session with explicit tenant filters, so another tenant's id is simply not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.errors import NotFound
from app.domain.models import (
    Approval,
    AssistantRun,
    AuditEvent,
    LlmUsage,
    Memory,
    Message,
    Notification,
    ProposedAction,
    Schedule,
    ServiceLog,
    Task,
    User,
)

NOT_FOUND = "No such message in your organisation."

# Rows created by an action point back at it through source_action_id.
_CREATED: dict[str, Any] = {
    "task": Task,
    "schedule": Schedule,
    "service_log": ServiceLog,
}
CHAIN_KINDS = frozenset({"message", "action", "approval", "notification", *_CREATED})


@dataclass(frozen=True)
class ChainMemory:
    id: str
    scope: str
    score: float
    source: str  # seed | message | action ... ("" when forgotten since)
    text: str  # "" when forgotten or withheld... the run says which
    forgotten: bool


@dataclass(frozen=True)
class ChainCall:
    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: int


@dataclass(frozen=True)
class ChainApproval:
    id: uuid.UUID
    status: str
    required_role: str
    requested_by: str
    decided_by: str
    decided_at: datetime | None
    created_at: datetime
    payload_hash: str
    # The stored payload still hashes to what was approved.
    hash_matches: bool


@dataclass(frozen=True)
class ChainAction:
    id: uuid.UUID
    position: int
    type: str
    payload: dict[str, Any]
    payload_hash: str
    status: str
    decision: str
    reason: str
    error: str
    result: dict[str, Any] | None
    executed_at: datetime | None
    approval: ChainApproval | None


@dataclass(frozen=True)
class ChainNotification:
    recipient: str
    kind: str
    title: str
    created_at: datetime
    read_at: datetime | None
    pushed_at: datetime | None


@dataclass(frozen=True)
class ChainEvent:
    created_at: datetime
    actor: str
    kind: str
    subject: str


@dataclass(frozen=True)
class Chain:
    message_id: uuid.UUID
    body: str
    sender: str
    sender_role: str
    source: str
    status: str
    created_at: datetime
    reply: str
    run_status: str  # "" when the assistant has not run (yet)
    run_error: str
    model: str
    memories_withheld: bool
    has_prompt: bool
    memories: list[ChainMemory] = field(default_factory=list)
    calls: list[ChainCall] = field(default_factory=list)
    actions: list[ChainAction] = field(default_factory=list)
    notifications: list[ChainNotification] = field(default_factory=list)
    events: list[ChainEvent] = field(default_factory=list)


def parse_ref(ref: str) -> tuple[str, uuid.UUID]:
    """ "action:<uuid>" → ("action", UUID); anything else is not found."""
    kind, _, raw = ref.strip().partition(":")
    try:
        ident = uuid.UUID(raw)
    except ValueError:
        raise NotFound(NOT_FOUND) from None
    if kind not in CHAIN_KINDS:
        raise NotFound(NOT_FOUND)
    return kind, ident


async def _action_message(
    s: AsyncSession, tenant_id: uuid.UUID, action_id: uuid.UUID | None
) -> uuid.UUID | None:
    if action_id is None:
        return None
    return (
        await s.exec(
            select(ProposedAction.message_id).where(
                ProposedAction.tenant_id == tenant_id, ProposedAction.id == action_id
            )
        )
    ).first()


async def _approval_message(
    s: AsyncSession, tenant_id: uuid.UUID, approval_id: uuid.UUID
) -> uuid.UUID | None:
    action_id = (
        await s.exec(
            select(Approval.action_id).where(
                Approval.tenant_id == tenant_id, Approval.id == approval_id
            )
        )
    ).first()
    return await _action_message(s, tenant_id, action_id)


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


async def _notification_message(
    s: AsyncSession, tenant_id: uuid.UUID, notification_id: uuid.UUID
) -> uuid.UUID | None:
    """A notification's cause is in its dedupe key: msg:<message>,
    approval:<approval>, approval-result:<approval>, reminder:<schedule>:<epoch>."""
    key = (
        await s.exec(
            select(Notification.dedupe_key).where(
                Notification.tenant_id == tenant_id,
                Notification.id == notification_id,
            )
        )
    ).first()
    if key is None:
        return None
    kind, _, rest = key.partition(":")
    ident = _uuid(rest.split(":")[0])
    if ident is None:
        return None
    if kind == "msg":
        return ident
    if kind in ("approval", "approval-result"):
        return await _approval_message(s, tenant_id, ident)
    if kind == "reminder":
        return await _created_message(s, tenant_id, Schedule, ident)
    return None


async def _created_message(
    s: AsyncSession, tenant_id: uuid.UUID, table: Any, row_id: uuid.UUID
) -> uuid.UUID | None:
    action_id = (
        await s.exec(
            select(table.source_action_id).where(
                table.tenant_id == tenant_id, table.id == row_id
            )
        )
    ).first()
    return await _action_message(s, tenant_id, action_id)


async def resolve_message(
    s: AsyncSession, tenant_id: uuid.UUID, kind: str, ident: uuid.UUID
) -> Message:
    """The user (or event) message at the root of the chain `kind:ident` belongs to."""
    message_id: uuid.UUID | None
    if kind == "message":
        message_id = ident
    elif kind == "action":
        message_id = await _action_message(s, tenant_id, ident)
    elif kind == "approval":
        message_id = await _approval_message(s, tenant_id, ident)
    elif kind == "notification":
        message_id = await _notification_message(s, tenant_id, ident)
    else:
        message_id = await _created_message(s, tenant_id, _CREATED[kind], ident)
    if message_id is None:
        raise NotFound(NOT_FOUND)
    msg = (
        await s.exec(
            select(Message).where(
                Message.tenant_id == tenant_id, Message.id == message_id
            )
        )
    ).first()
    if msg is not None and msg.author == "assistant" and msg.reply_to_id:
        # A reply's chain is the chain of the message it answers.
        return await resolve_message(s, tenant_id, "message", msg.reply_to_id)
    if msg is None:
        raise NotFound(NOT_FOUND)
    return msg


async def user_names(
    s: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = (
        await s.exec(
            select(User.id, User.name).where(
                User.tenant_id == tenant_id, col(User.id).in_(wanted)
            )
        )
    ).all()
    return dict(rows)


async def load_chain(actor: Actor, ref: str) -> Chain:
    """The whole chain behind `ref` ("message:<id>", "action:<id>", ...)."""
    require_admin(actor, "see the audit chain")
    kind, ident = parse_ref(ref)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        msg = await resolve_message(s, tid, kind, ident)
        run = (
            await s.exec(
                select(AssistantRun).where(
                    AssistantRun.tenant_id == tid, AssistantRun.message_id == msg.id
                )
            )
        ).first()
        calls = (
            await s.exec(
                select(LlmUsage)
                .where(LlmUsage.tenant_id == tid, LlmUsage.message_id == msg.id)
                .order_by(col(LlmUsage.created_at))
            )
        ).all()
        actions = (
            await s.exec(
                select(ProposedAction)
                .where(
                    ProposedAction.tenant_id == tid,
                    ProposedAction.message_id == msg.id,
                )
                .order_by(col(ProposedAction.position))
            )
        ).all()
        action_ids = [a.id for a in actions]
        approvals = (
            (
                await s.exec(
                    select(Approval).where(
                        Approval.tenant_id == tid,
                        col(Approval.action_id).in_(action_ids),
                    )
                )
            ).all()
            if action_ids
            else []
        )
        memories = await _memories(s, tid, run)
        notes = await _notifications(s, tid, msg.id, actions, approvals)
        subjects = [
            f"message:{msg.id}",
            *(f"action:{a}" for a in action_ids),
            *(f"approval:{a.id}" for a in approvals),
        ]
        events = (
            await s.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.tenant_id == tid, col(AuditEvent.subject).in_(subjects)
                )
                .order_by(col(AuditEvent.created_at))
            )
        ).all()
        people = await user_names(
            s,
            tid,
            [
                msg.sender_user_id,
                *(a.requested_by for a in approvals),
                *(a.decided_by for a in approvals),
                *(n.user_id for n in notes),
                *(_uuid(e.actor.removeprefix("user:")) for e in events),
            ],
        )
        sender = (
            await s.exec(
                select(User.role).where(
                    User.tenant_id == tid, User.id == msg.sender_user_id
                )
            )
        ).first()
    by_action = {a.action_id: a for a in approvals}
    return Chain(
        message_id=msg.id,
        body=msg.body,
        sender=_sender_name(msg, people),
        sender_role=sender or "integration",
        source=msg.source,
        status=msg.status,
        created_at=msg.created_at,
        reply=run.reply if run else "",
        run_status=run.status if run else "",
        run_error=(run.error or "") if run else (msg.error or ""),
        model=run.model if run else "",
        memories_withheld=bool(run and run.memories_withheld),
        has_prompt=bool(run and run.prompt),
        memories=memories,
        calls=[
            ChainCall(
                c.purpose,
                c.model,
                c.prompt_tokens,
                c.completion_tokens,
                c.cost_usd,
                c.latency_ms,
            )
            for c in calls
        ],
        actions=[_action(a, by_action.get(a.id), people) for a in actions],
        notifications=[
            ChainNotification(
                people.get(n.user_id, "(unknown)"),
                n.kind,
                n.title,
                n.created_at,
                n.read_at,
                n.pushed_at,
            )
            for n in notes
        ],
        events=[
            ChainEvent(e.created_at, _who(e.actor, people), e.kind, e.subject)
            for e in events
        ],
    )


async def load_prompt(actor: Actor, ref: str) -> list[dict[str, str]]:
    """The prompt messages sent for the chain's message (admins only; shown behind
    a toggle: it holds the directory and memory text)."""
    require_admin(actor, "see the prompt")
    kind, ident = parse_ref(ref)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        msg = await resolve_message(s, tid, kind, ident)
        prompt = (
            await s.exec(
                select(AssistantRun.prompt).where(
                    AssistantRun.tenant_id == tid, AssistantRun.message_id == msg.id
                )
            )
        ).first()
    return [
        {"role": str(m.get("role", "")), "content": str(m.get("content", ""))}
        for m in (prompt or [])
    ]


def _sender_name(msg: Message, people: dict[uuid.UUID, str]) -> str:
    if msg.sender_user_id is not None:
        return people.get(msg.sender_user_id, "(unknown user)")
    return f"integration ({msg.sender_key})"


def _who(ref: str, people: dict[uuid.UUID, str]) -> str:
    ident = _uuid(ref.removeprefix("user:")) if ref.startswith("user:") else None
    return people.get(ident, ref) if ident else ref


def _action(
    a: ProposedAction, approval: Approval | None, people: dict[uuid.UUID, str]
) -> ChainAction:
    verdict = dict(a.verdict or {})
    return ChainAction(
        id=a.id,
        position=a.position,
        type=a.type,
        payload=dict(a.payload or {}),
        payload_hash=a.payload_hash,
        status=a.status,
        decision=str(verdict.get("decision", "")),
        reason=str(verdict.get("reason", "")),
        error=str(verdict.get("error", "")),
        result=a.result,
        executed_at=a.executed_at,
        approval=None
        if approval is None
        else ChainApproval(
            id=approval.id,
            status=approval.status,
            required_role=approval.required_role,
            requested_by=people.get(approval.requested_by, "")
            if approval.requested_by
            else "",
            decided_by=people.get(approval.decided_by, "")
            if approval.decided_by
            else "",
            decided_at=approval.decided_at,
            created_at=approval.created_at,
            payload_hash=approval.payload_hash,
            hash_matches=approval.payload_hash == a.payload_hash,
        ),
    )


async def _memories(
    s: AsyncSession, tenant_id: uuid.UUID, run: AssistantRun | None
) -> list[ChainMemory]:
    """The retrieved memories, in retrieval order, with today's text (a memory
    forgotten since shows as such). Runs from before scores were kept list ids."""
    if run is None:
        return []
    hits = list(run.retrieved or []) or [
        {"id": i, "scope": "", "score": 0.0} for i in run.retrieved_memory_ids
    ]
    ids = [u for u in (_uuid(str(h.get("id", ""))) for h in hits) if u is not None]
    rows = (
        (
            await s.exec(
                select(Memory.id, Memory.text, Memory.source_type, Memory.scope).where(
                    Memory.tenant_id == tenant_id, col(Memory.id).in_(ids)
                )
            )
        ).all()
        if ids
        else []
    )
    found = {r[0]: r for r in rows}
    out = []
    for h in hits:
        mid = _uuid(str(h.get("id", "")))
        row = found.get(mid) if mid else None
        out.append(
            ChainMemory(
                id=str(h.get("id", "")),
                scope=str(h.get("scope") or (row[3] if row else "")),
                score=float(h.get("score") or 0.0),
                source=row[2] if row else "",
                text=row[1] if row else "",
                forgotten=row is None,
            )
        )
    return out


async def _notifications(
    s: AsyncSession,
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    actions: Sequence[ProposedAction],
    approvals: Sequence[Approval],
) -> Sequence[Notification]:
    """What the chain caused: its execution (msg:), approval requests and results,
    and reminders of the schedules it created."""
    keys = [f"msg:{message_id}"]
    for a in approvals:
        keys += [f"approval:{a.id}", f"approval-result:{a.id}"]
    created = [
        str(v) for a in actions for v in (a.result or {}).values() if _uuid(str(v))
    ]
    conditions: list[ColumnElement[bool]] = [col(Notification.dedupe_key).in_(keys)]
    conditions += [
        col(Notification.dedupe_key).startswith(f"reminder:{c}:") for c in created
    ]
    return (
        await s.exec(
            select(Notification)
            .where(Notification.tenant_id == tenant_id, or_(*conditions))
            .order_by(col(Notification.created_at))
            .limit(500)
        )
    ).all()


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    created_at: datetime
    sender: str
    body: str
    status: str
    actions: int


async def recent_messages(actor: Actor, limit: int = 30) -> list[MessageRow]:
    """The newest messages people and integrations sent (each opens its chain)."""
    require_admin(actor, "see the audit chain")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        msgs = (
            await s.exec(
                select(Message)
                .where(Message.tenant_id == tid, col(Message.author) != "assistant")
                .order_by(col(Message.created_at).desc())
                .limit(max(1, min(limit, 200)))
            )
        ).all()
        ids = [m.id for m in msgs]
        counts = (
            dict(
                (
                    await s.exec(
                        select(ProposedAction.message_id, func.count())
                        .where(
                            ProposedAction.tenant_id == tid,
                            col(ProposedAction.message_id).in_(ids),
                        )
                        .group_by(col(ProposedAction.message_id))
                    )
                ).all()
            )
            if ids
            else {}
        )
        people = await user_names(s, tid, [m.sender_user_id for m in msgs])
    return [
        MessageRow(
            m.id,
            m.created_at,
            _sender_name(m, people),
            m.body[:200],
            m.status,
            int(counts.get(m.id, 0)),
        )
        for m in msgs
    ]
