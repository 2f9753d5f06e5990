"""One assistant turn: a committed message becomes a reply and validated actions.

    claim the message → budget check → agents.runner.plan (retrieval, model,
    validation) → one transaction: run record, proposed actions, approvals,
    execution, reply, usage, memories, status done → live events, reminders

Idempotent: a message already `done` is skipped; everything written carries a unique
key (run per message, action per position, rows per action, notification per
cause and recipient, reply per message), so a job that runs twice, or resumes after
a crash, writes one set of results.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agents.embeddings import embed_query, embeds_in_process
from agents.model import ModelError
from agents.plan import Proposal, TurnPlan
from agents.retrieval import search_text
from agents.runner import decide, prepare
from app.core import metrics, stages, turn_priority
from app.core.db import after_commit, tenant_session
from app.core.live import LiveEvent, emit
from app.core.logs import log_context
from app.core.settings import get_settings
from app.core.stages import stage, turn_clock
from app.domain.actions import SPECS
from app.domain.actor import Actor
from app.domain.limits import MAX_MESSAGE_CHARS
from app.domain.models import (
    ActionStatus,
    Message,
    MessageStatus,
    ProposedAction,
    Tenant,
    User,
    utcnow,
)
from app.domain.plan import TokenLimit, token_limit
from app.domain.roles import INTEGRATION_ROLE, Role
from app.domain.tenant_policy import TenantPolicy, is_external_model
from app.services import audit, turn_rows
from app.services.approvals import request_approval
from app.services.execution import execute_action, payload_hash
from app.services.memories import remember_all
from app.services.memory_vectors import embed_later
from app.services.notifications import notify_users
from app.services.requests import linked_note

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
GAVE_UP_REPLY = "Sorry, I could not process this message. Please try again later."
REFUSED_REPLY = (
    "Sorry, the assistant's model refused this request, so nothing was done. "
    "An admin has been told."
)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def tokens_used_this_month(session: AsyncSession) -> int:
    """The tenant's tokens this calendar month (UTC): one row, kept by a trigger
    on llm_usage (app/domain/models.py LlmUsageMonth)."""
    return await turn_rows.tokens_in_month(session, month_start(utcnow()).date())


async def _claim(
    tenant_id: uuid.UUID, message_id: uuid.UUID
) -> turn_rows.Claimed | None:
    """Mark the message processing and read its tenant, its sender and the month's
    tokens (one statement when it can be claimed); None when there is nothing
    (more) to do."""
    month = month_start(utcnow()).date()
    async with tenant_session(tenant_id) as s:
        claimed = await turn_rows.claim(s, tenant_id, message_id, MAX_ATTEMPTS, month)
        if claimed is not None:
            return claimed
        msg = await _claim_or_give_up(s, message_id)
        if msg is None:
            return None
        tenant = await s.get(Tenant, tenant_id)
        if tenant is None:
            raise LookupError(f"tenant {tenant_id} not found")
        sender = (
            await turn_rows.sender(s, tenant_id, msg.sender_user_id)
            if msg.sender_user_id
            else None
        )
        tokens = await turn_rows.tokens_in_month(s, month)
        return turn_rows.Claimed(msg, tenant, sender, tokens)


async def _claim_or_give_up(s: AsyncSession, message_id: uuid.UUID) -> Message | None:
    """Why the message could not be claimed: nothing to do (None), or out of
    attempts (given up, None); a message that became claimable since is claimed."""
    msg = (
        await s.exec(select(Message).where(Message.id == message_id).with_for_update())
    ).first()
    if msg is None or msg.author not in turn_rows.CLAIMABLE_AUTHORS:
        return None
    if msg.status in turn_rows.FINISHED:
        return None
    msg.attempts += 1
    msg.updated_at = utcnow()
    if msg.attempts > MAX_ATTEMPTS:
        await _give_up(s, msg, GAVE_UP_REPLY, "gave up after repeated failures")
        return None
    msg.status = MessageStatus.processing.value
    return msg


async def _give_up(
    session: AsyncSession, msg: Message, reply: str, reason: str
) -> None:
    """End a message as failed: the sender is told, the admins are alerted (a
    failure nobody hears about is a message silently lost)."""
    msg.status = MessageStatus.failed.value
    msg.error = reason[:500]
    msg.updated_at = utcnow()
    session.add(msg)
    await turn_rows.write_reply(session, msg, reply)
    admins = (
        await session.exec(
            select(User.id).where(User.role == Role.admin.value, ~col(User.disabled))
        )
    ).all()
    await notify_users(
        session,
        msg.tenant_id,
        admins,
        kind="system",
        title="The assistant could not answer a message",
        body=reason,
        dedupe_key=f"gave-up:{msg.id}",
        data={"message_id": str(msg.id)},
    )
    audit.record(
        session, msg.tenant_id, "system", "message.failed", f"message:{msg.id}"
    )


async def _refused_by_model(
    tenant_id: uuid.UUID, message_id: uuid.UUID, exc: ModelError
) -> None:
    async with tenant_session(tenant_id) as s:
        row = (
            await s.exec(
                select(Message).where(Message.id == message_id).with_for_update()
            )
        ).first()
        if row is not None and row.status == MessageStatus.processing.value:
            await _give_up(s, row, REFUSED_REPLY, f"model refused the request: {exc}")


async def handle_message(
    tenant_id: uuid.UUID, message_id: uuid.UUID, *, behind: bool = False
) -> str:
    """Run the assistant turn for one message. Returns the outcome's status.
    `behind`: its tenant has more messages waiting, so in this worker the turn lets
    other tenants' turns go first (app/core/turn_priority.py)."""
    started = time.time()
    with (
        log_context(tenant_id=tenant_id, message_id=message_id),
        turn_clock() as clock,
        turn_priority.turn(behind),
    ):
        with stage("claim"):
            claimed = await _claim(tenant_id, message_id)
        if claimed is None:
            return "skipped"
        msg = claimed.message
        try:
            status = await _run(claimed)
        except ModelError as exc:
            if exc.kind != "request_error":
                await _requeue(tenant_id, message_id)
                await _count_turn(tenant_id, "retry")
                raise
            # A 4xx (bad key, unknown model, request refused) does not heal by
            # waiting: retrying it would only delay telling anyone.
            log.warning("model refused the request; not retried", exc_info=exc)
            await _refused_by_model(tenant_id, message_id, exc)
            await _count_turn(tenant_id, "failed")
            return "failed"
        except Exception:
            log.exception("assistant turn failed; will retry")
            await _requeue(tenant_id, message_id)
            await _count_turn(tenant_id, "retry")
            raise
        log.info("turn done", extra={"outcome": status})
        record: dict[str, float | str] = {
            "tenant_id": str(tenant_id),
            "message_id": str(message_id),
            "outcome": status,
            "queue_wait": (started - msg.created_at.timestamp()) * 1000,
            "turn": (time.time() - started) * 1000,
            **clock,
        }
        await metrics.turn_batch(str(tenant_id), status, record).send_soon()
        await stages.save(record)
        return status


async def _count_turn(tenant_id: uuid.UUID, outcome: str) -> None:
    await metrics.count(metrics.TURNS, {"tenant": str(tenant_id), "outcome": outcome})


async def _requeue(tenant_id: uuid.UUID, message_id: uuid.UUID) -> None:
    """Back to queued, for the job's retry (with backoff) or the sweeper."""
    async with tenant_session(tenant_id) as s:
        row = await s.get(Message, (tenant_id, message_id))
        if row is not None and row.status == MessageStatus.processing.value:
            row.status = MessageStatus.queued.value
            row.updated_at = utcnow()


SUSPENDED_REPLY = (
    "Your organisation's account is suspended, so I can't process messages right "
    "now. An admin can contact the platform operator."
)


async def _suspended_stop(tenant: Tenant, msg: Message) -> str:
    """A suspended organisation's message: a clear reply, no model call."""
    async with tenant_session(tenant.id) as s:
        row = await s.get(Message, (tenant.id, msg.id))
        if row is None:
            return "skipped"
        await turn_rows.write_reply(s, row, SUSPENDED_REPLY)
        row.status = MessageStatus.done.value
        row.error = "tenant_suspended"
        row.updated_at = utcnow()
        s.add(row)
    return "suspended"


async def _run(claimed: turn_rows.Claimed) -> str:
    tenant, msg = claimed.tenant, claimed.message
    if tenant.status != "active":
        return await _suspended_stop(tenant, msg)
    # The tenant's model and data policy: memory content stays out of a prompt
    # for an external provider when the organisation forbids it.
    policy = TenantPolicy.from_dict(tenant.policy)
    model = policy.model_for(get_settings().llm_model)
    place = turn_priority.current()
    await place.step_aside()
    embedding = asyncio.ensure_future(embed_query(search_text(msg.body)))
    try:
        if not embeds_in_process():
            # A hosted embedding model is waited for before a connection is taken.
            with stage("embedding"):
                await embedding
            await place.step_aside()
        # In-process, the question is embedded on another thread while this
        # transaction reads the directory and the memories.
        async with tenant_session(tenant.id) as s:
            limit = token_limit(tenant.monthly_token_budget, tenant.plan_token_budget)
            if claimed.month_tokens >= limit.tokens:
                return await _budget_stop(s, tenant, msg, limit)
            actor = _actor_for(tenant.id, claimed.sender)
            with stage("retrieval"):
                prepared = await prepare(
                    s, actor, msg, embedding, policy.withholds_memories(model)
                )
    finally:
        embedding.cancel()  # only when the turn left before it was used
    # The model call runs with no transaction open: a slow provider holds no
    # database connection.
    await place.step_aside()
    with place.off_cpu(is_external_model(model)):
        plan = await decide(prepared, dict(tenant.policy or {}), model)
    await place.step_aside()
    with stage("execution"):
        return await _persist(tenant, msg, actor, plan)


def _actor_for(tenant_id: uuid.UUID, sender: turn_rows.Sender | None) -> Actor:
    if sender is None or sender.disabled:
        # Integrations (and disabled users) act with the least staff power.
        return Actor(tenant_id, uuid.UUID(int=0), INTEGRATION_ROLE)
    return Actor(tenant_id, sender.id, sender.role)


async def _budget_stop(
    s: AsyncSession, tenant: Tenant, msg: Message, limit: TokenLimit
) -> str:
    """Past the month's token limit: tell the user and the admins which limit it
    is (the plan's, which only the operator raises, or the admin's own), and spend
    nothing."""
    month = month_start(utcnow()).strftime("%Y-%m")
    admins = (await s.exec(select(User.id).where(User.role == Role.admin.value))).all()
    if limit.source == "plan":
        body = (
            f"{tenant.name} used the {limit.tokens:,} tokens its plan allows this "
            "month; the assistant is paused until the platform operator raises the "
            "plan or the month ends."
        )
        reply = (
            "Your organisation has used all the assistant tokens its plan allows "
            "this month, so I can't process requests right now. An admin has been "
            "told."
        )
    else:
        body = f"{tenant.name} used its monthly token budget; the assistant is paused."
        reply = (
            "Your organisation has used this month's assistant budget, so I can't "
            "process requests right now. An admin has been told."
        )
    await notify_users(
        s,
        tenant.id,
        admins,
        kind="system",
        title="Assistant budget reached",
        body=body,
        dedupe_key=f"budget:{month}",
    )
    await turn_rows.write_reply(s, msg, reply)
    msg.status = MessageStatus.done.value
    msg.error = "budget_exceeded"
    msg.updated_at = utcnow()
    s.add(msg)
    audit.record(
        s,
        tenant.id,
        "system",
        "budget.exceeded",
        f"message:{msg.id}",
        {"limit": limit.source, "tokens": limit.tokens},
    )
    return "budget_exceeded"


async def _persist(tenant: Tenant, msg: Message, actor: Actor, plan: TurnPlan) -> str:
    sender_id = msg.sender_user_id
    async with tenant_session(tenant.id) as s:
        # First: marks it done and locks it, so a second run of this job waits
        # here and then finds it done (and writes nothing).
        run = {
            "retrieved_memory_ids": plan.retrieved_memory_ids,
            "retrieved": plan.retrieved,
            "prompt": plan.prompt or None,
            "memories_withheld": plan.memories_withheld,
            "model": (plan.usage[-1].model if plan.usage else "")[:120],
            "prompt_tokens": sum(u.prompt_tokens for u in plan.usage),
            "completion_tokens": sum(u.completion_tokens for u in plan.usage),
            "cost_usd": sum(u.cost_usd for u in plan.usage),
            "latency_ms": sum(u.latency_ms for u in plan.usage),
            "reply": plan.reply[:MAX_MESSAGE_CHARS],
            "status": "error" if plan.error else "ok",
            "error": (plan.error or None) and plan.error[:2000],
        }
        calls = [
            {
                "purpose": u.purpose,
                "model": u.model[:120],
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "cost_usd": u.cost_usd,
                "latency_ms": u.latency_ms,
            }
            for u in plan.usage
        ]
        if not await turn_rows.finish_with_run(
            s, tenant.id, msg.id, plan.error, run, calls
        ):
            return "skipped"  # another run finished first
        dedupe = f"msg:{msg.id}"
        notes: list[str] = []
        after_commit(s, _turn_metrics(plan).send_soon)
        for position, proposal in enumerate(plan.proposals):
            action = await _proposed_action(s, tenant.id, msg, position, proposal)
            if action is None:
                continue  # handled by an earlier run of this job
            if proposal.decision == "needs_approval":
                await request_approval(
                    s,
                    action,
                    proposal.required_role or Role.manager.value,
                    proposal.summary or proposal.type,
                    msg.id,
                )
            elif proposal.decision != "deny":
                await execute_action(
                    s,
                    action,
                    sender_id=sender_id,
                    dedupe_key=dedupe,
                    message_id=msg.id,
                )
                notes.append(await linked_note(s, action))
            audit.record(
                s,
                tenant.id,
                "assistant",
                f"action.{action.status}",
                f"action:{action.id}",
                {"type": action.type, **action.verdict},
            )
        unembedded = await remember_all(s, tenant.id, plan.memories)
        after_commit(s, partial(embed_later, tenant.id, unembedded))
        # What the service knows and the model could not: a report joined a task.
        await turn_rows.write_reply(
            s, msg, "\n".join(filter(None, [plan.reply, *notes]))
        )
        if sender_id is not None:
            reply = LiveEvent(
                sender_id,
                "reply",
                None,
                "Assistant replied",
                {"message_id": str(msg.id)},
            )
            emit(s, tenant.id, [reply])
    return "done"


def _turn_metrics(plan: TurnPlan) -> metrics.Batch:
    """The model calls and refusals of a turn, counted once it has committed."""
    batch = metrics.Batch()
    for u in plan.usage:
        metrics.model_call(
            batch,
            u.model,
            u.purpose,
            u.latency_ms,
            u.prompt_tokens,
            u.completion_tokens,
        )
    for p in plan.proposals:
        if p.decision == "deny":
            # The model may invent a type: only registered ones are label values.
            kind = p.type if p.type in SPECS else "unknown"
            labels = {"reason": p.reason_code or "refused", "action": kind}
            batch.inc(metrics.REFUSED, labels)
    return batch


# Where a proposal's action starts: a refused one is done with; an executed one
# moves on from "new" in execute_action.
_INITIAL_STATUS = {
    "deny": ActionStatus.rejected.value,
    "needs_approval": ActionStatus.pending_approval.value,
}


async def _proposed_action(
    s: AsyncSession,
    tenant_id: uuid.UUID,
    msg: Message,
    position: int,
    proposal: Proposal,
) -> ProposedAction | None:
    """Insert the action at (message, position) with its verdict, once; None when
    an earlier run of this job already wrote it."""
    return await turn_rows.insert_action(
        s,
        {
            "tenant_id": tenant_id,
            "message_id": msg.id,
            "position": position,
            "type": proposal.type[:40],
            "payload": proposal.payload,
            "payload_hash": payload_hash(proposal.payload),
            "requested_by": msg.sender_user_id,
            "status": _INITIAL_STATUS.get(proposal.decision, "new"),
            "verdict": {"decision": proposal.decision, "reason": proposal.reason},
        },
    )
