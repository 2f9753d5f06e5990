"""The loop for one message: directory → retrieval → prompt (`prepare`, inside the
tenant session, with the query embedding computed before it opened) → model →
parse (one repair retry) → policy (`decide`, outside any transaction) → a TurnPlan.
Writes nothing: app/services/turns.py persists the plan in one transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from agents.coherence import check_coherence
from agents.directory import load_directory
from agents.model import Completion, complete
from agents.orgdata import load_org_data, wants_org_data
from agents.parsing import OutputInvalid, parse_output, repair_messages
from agents.plan import Proposal, TurnPlan, Usage
from agents.policy import refusal_line, validate
from agents.prompt import PromptMemory, build_messages
from agents.retrieval import RetrievalScope, retrieve, search_text
from agents.schemas import grammar_schema, output_json_schema
from app.core.settings import get_settings
from app.core.stages import stage
from app.domain.actions import SPECS
from app.domain.actions.base import MemoryNote
from app.domain.actor import Actor
from app.domain.directory import Directory
from app.domain.models import Message, table
from app.domain.roles import INTEGRATION_ROLE, Role
from app.domain.tenant_policy import TenantPolicy
from app.domain.timezones import zone_or_utc

log = logging.getLogger(__name__)
RETRIEVE_K = 6
HISTORY = 10
FAILED_REPLY = (
    "Sorry, I could not work out what to do with that. Nothing was done; "
    "please rephrase or contact a manager."
)
_QUESTION = re.compile(r"\?\s*$")


_messages = table(Message)
# The conversation's last messages before this one (built once: every turn runs it).
_HISTORY = (
    sa.select(_messages.c.author, _messages.c.body)
    .where(
        _messages.c.tenant_id == sa.bindparam("t"),
        _messages.c.conversation_id == sa.bindparam("c"),
        _messages.c.created_at < sa.bindparam("before"),
    )
    .order_by(_messages.c.created_at.desc())
    .limit(HISTORY)
)


async def _history(session: AsyncSession, msg: Message) -> list[tuple[str, str]]:
    conn = await session.connection()
    params = {"t": msg.tenant_id, "c": msg.conversation_id, "before": msg.created_at}
    rows = (await conn.execute(_HISTORY, params)).all()
    return [
        ("assistant" if author == "assistant" else "user", body)
        for author, body in reversed(rows)
    ]


def _usage(c: Completion, purpose: str) -> Usage:
    return Usage(
        c.model,
        c.prompt_tokens,
        c.completion_tokens,
        c.cost_usd,
        c.latency_ms,
        purpose,
    )


def compose_reply(model_reply: str, proposals: list[Proposal]) -> str:
    """The model's words plus what did not run and why (the model cannot know).

    When nothing it proposed ran, its words ("I'll let them know") would be false,
    so the sender reads only what happened instead."""
    nothing_ran = bool(proposals) and all(p.decision != "allow" for p in proposals)
    lines = [model_reply.strip()] if model_reply.strip() and not nothing_ran else []
    lines += [refusal_line(p) for p in proposals if p.decision != "allow"]
    return "\n".join(line for line in lines if line) or "Done."


@dataclass(frozen=True)
class Prepared:
    """What the database gave for one turn; the model call happens after the
    transaction that read it has ended (no connection held during a slow call)."""

    actor: Actor
    msg: Message
    directory: Directory
    now_local: datetime
    retrieved_ids: list[str]
    messages: list[dict[str, str]]
    # The same memories with scope and score, for the audit chain.
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    # The tenant's data policy kept memory content out of the prompt.
    memories_withheld: bool = False
    # The message's embedding (None when the model failed): also the vector of the
    # sender's statement, which is that message.
    query_vector: list[float] | None = None


async def prepare(
    session: AsyncSession,
    actor: Actor,
    msg: Message,
    query_embedding: Awaitable[list[float] | None],
    withhold_memories: bool = False,
) -> Prepared:
    """Directory, retrieval and the prompt, read through the tenant session.
    `query_embedding`: the message's embedding (agents.embeddings), awaited once
    the directory is read, so an in-process model computes it meanwhile.
    `withhold_memories`: retrieval still runs (the audit chain lists what was
    held back) but no memory text goes into the prompt."""
    directory = await load_directory(session, actor)
    history = await _history(session, msg)
    tz = zone_or_utc(directory.tenant.timezone)
    now_utc = msg.clock or datetime.now(UTC)
    now_local = now_utc.astimezone(tz).replace(tzinfo=None)
    scope = RetrievalScope(
        actor.tenant_id,
        actor.user_id,
        actor.role,
        tuple(t.id for t in directory.teams if directory.sender.id in t.member_ids),
    )
    with stage("embedding"):  # what is left of it, if anything
        vector = await query_embedding
    found = await retrieve(session, scope, search_text(msg.body), vector, k=RETRIEVE_K)
    shown = (
        []
        if withhold_memories
        else [PromptMemory(f"m{i + 1}", m.text) for i, m in enumerate(found)]
    )
    org_data = (
        await load_org_data(session, directory, now_utc, tz)
        if wants_org_data(msg.body) and not withhold_memories
        else None
    )
    messages = build_messages(directory, shown, history, msg.body, now_local, org_data)
    return Prepared(
        actor,
        msg,
        directory,
        now_local,
        [str(m.id) for m in found],
        messages,
        [{"id": str(m.id), "scope": m.scope, "score": m.score} for m in found],
        withhold_memories,
        vector,
    )


async def _ask(messages: list[dict[str, str]], model: str | None) -> Completion:
    mode = get_settings().llm_output_mode
    with stage("model"):
        if mode == "tools":
            # For providers that follow a forced tool call better than JSON mode.
            return await complete(
                messages, model=model, tool_schema=output_json_schema()
            )
        if mode == "json_schema":
            # Grammar-constrained decoding: the schema without length limits (they
            # blow up grammar compilers); parsing checks the limits afterwards.
            return await complete(
                messages, model=model, response_schema=grammar_schema()
            )
        return await complete(messages, model=model)


async def decide(
    prepared: Prepared, policy_raw: dict[str, object], model: str | None = None
) -> TurnPlan:
    """The model's answer (`model`: the tenant's, else the platform's), parsed (one
    repair retry) and checked by the policy."""
    msg, directory, messages = prepared.msg, prepared.directory, prepared.messages
    plan = TurnPlan(
        reply="",
        retrieved_memory_ids=prepared.retrieved_ids,
        retrieved=prepared.retrieved,
        prompt=messages,
        memories_withheld=prepared.memories_withheld,
    )
    first = await _ask(messages, model)
    plan.usage.append(_usage(first, "chat"))
    try:
        with stage("validation"):
            parsed = parse_output(first.text)
    except OutputInvalid as exc:
        log.warning("model output rejected; repairing", extra={"reason": exc.reason})
        second = await _ask(repair_messages(messages, first.text, exc.reason), model)
        plan.usage.append(_usage(second, "repair"))
        try:
            parsed = parse_output(second.text)
        except OutputInvalid as exc2:
            log.warning("model output rejected twice", extra={"reason": exc2.reason})
            plan.reply = FAILED_REPLY
            plan.error = f"invalid model output: {exc2.reason}"
            return plan

    with stage("validation"):
        policy = TenantPolicy.from_dict(dict(policy_raw))
        plan.proposals = [
            validate(check_coherence(a), directory, prepared.now_local, policy)
            for a in parsed.actions
        ]
        plan.reply = compose_reply(parsed.reply, plan.proposals)
        # Stored without vectors but the statement's; embedded once the turn has
        # committed (app/services/memory_vectors.py): the reply does not wait.
        plan.memories = _memories(
            directory, prepared.actor, msg, plan.proposals, prepared.query_vector
        )
    return plan


def _memories(
    directory: Directory,
    actor: Actor,
    msg: Message,
    proposals: list[Proposal],
    statement_vector: list[float] | None = None,
) -> list[dict[str, Any]]:
    """What this turn teaches the assistant: the sender's statement (their own
    scope) and what ran (tenant scope, or the resident's own scope), in the words
    of each action type's registry entry. The statement keeps the message's own
    embedding (`statement_vector`, of what it says without the courtesies): its
    text only adds who said it and when, which full-text search matches, and a
    second forward pass of the same words would cost as much as the first."""
    out: list[dict[str, Any]] = []
    private = actor.role == Role.resident.value
    integration = actor.role == INTEGRATION_ROLE
    sender = directory.sender
    if not _QUESTION.search(msg.body) and len(msg.body.split()) >= 3:
        out.append(
            {
                "scope": "tenant" if integration else "user",
                "user_id": None if integration else actor.user_id,
                "text": f"{sender.name} said on {_day(msg)}: {msg.body}"[:2000],
                "source_type": "message",
                "source_id": str(msg.id),
                "embedding": statement_vector,
            }
        )
    note = MemoryNote(sender.name, _day(msg))
    for position, p in enumerate(proposals):
        spec = SPECS.get(p.type)
        if p.decision != "allow" or spec is None or spec.memory is None:
            continue
        text = spec.memory(spec.payload.model_validate(p.payload), note)
        if not text:
            continue
        out.append(
            {
                "scope": "user" if private else "tenant",
                "user_id": actor.user_id if private else None,
                "text": text.strip()[:2000],
                "source_type": "action",
                "source_id": f"{msg.id}:{position}",
            }
        )
    return out


def _day(msg: Message) -> str:
    return (msg.clock or msg.created_at).strftime("%Y-%m-%d")
