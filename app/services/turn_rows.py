"""The statements every assistant turn runs (the rows it writes, the few it reads),
built once per process.

A turn is the worker's hot path, and its event-loop thread is what limits one
worker process (docs/architecture.md, "Where a turn's CPU goes"). A statement built
per call (`insert(Model).values(...)` through the ORM session) costs SQLAlchemy a
cache key over every value and the ORM's bulk-insert bookkeeping, about twice what
the same statement costs when it is built once with bound parameters and run on
the session's connection. Same SQL, same transaction, same row-level security.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain.limits import MAX_MESSAGE_CHARS
from app.domain.models import (
    AssistantRun,
    LlmUsage,
    LlmUsageMonth,
    Message,
    MessageStatus,
    ProposedAction,
    Tenant,
    User,
    table,
    utcnow,
)

_messages = table(Message)
_runs = table(AssistantRun)
_usage = table(LlmUsage)
_tenants = table(Tenant)
_actions = table(ProposedAction)
_users = table(User)
_months = table(LlmUsageMonth)
_P = sa.bindparam
T = TypeVar("T")

# Who a turn answers, and the statuses after which there is nothing left to do.
CLAIMABLE_AUTHORS = ("user", "event")
FINISHED = (MessageStatus.done.value, MessageStatus.failed.value)

# Processing starts: one attempt more, unless the message is finished, is not a
# user's or an integration's, or has used its attempts (the caller then reads it
# to tell which). Row lock, update and the tenant's row in one statement.
_CLAIMED = (
    sa.update(_messages)
    .where(
        _messages.c.tenant_id == _P("t"),
        _messages.c.id == _P("m"),
        _messages.c.author.in_(CLAIMABLE_AUTHORS),
        _messages.c.status.not_in(FINISHED),
        _messages.c.attempts < _P("max_attempts"),
    )
    .values(
        attempts=_messages.c.attempts + 1,
        status=MessageStatus.processing.value,
        updated_at=_P("now"),
    )
    .returning(*_messages.c)
    .cte("claimed")
)
_TENANT_PREFIX = "tenant__"
_SENDER_PREFIX = "sender__"
_MONTH_TOKENS_LABEL = "month__tokens"
# With the message: its tenant, its sender (none for an integration's message: the
# outer join) and the tenant's tokens this month, which the turn needs before its
# retrieval; the claim's round trip carries them (same tenant, same RLS).
_CLAIM = (
    sa.select(
        _CLAIMED,
        *(c.label(_TENANT_PREFIX + c.name) for c in _tenants.c),
        *(
            c.label(_SENDER_PREFIX + c.name)
            for c in (_users.c.id, _users.c.role, _users.c.disabled)
        ),
        sa.func.coalesce(_months.c.tokens, 0).label(_MONTH_TOKENS_LABEL),
    )
    .join_from(_CLAIMED, _tenants, _tenants.c.id == _CLAIMED.c.tenant_id)
    .outerjoin(
        _users,
        sa.and_(
            _users.c.tenant_id == _CLAIMED.c.tenant_id,
            _users.c.id == _CLAIMED.c.sender_user_id,
        ),
    )
    .outerjoin(
        _months,
        sa.and_(
            _months.c.tenant_id == _CLAIMED.c.tenant_id,
            _months.c.month == _P("month"),
        ),
    )
)

# The turn's results are written: marks the message done unless another run of
# the job already did, and locks it for the rest of the transaction; with the
# turn's run record and its model calls written by the same statement, only then:
# one round trip instead of three on every turn. The model calls come as one JSON
# array.
_DONE = (
    sa.update(_messages)
    .where(
        _messages.c.tenant_id == _P("t"),
        _messages.c.id == _P("m"),
        _messages.c.status != MessageStatus.done.value,
    )
    .values(status=MessageStatus.done.value, error=_P("error"), updated_at=_P("now"))
    .returning(_messages.c.id, _messages.c.tenant_id)
    .cte("done")
)
# What the statement itself fills in both rows; the turn gives the rest.
_FILLED = {
    "tenant_id": _DONE.c.tenant_id,
    "message_id": _DONE.c.id,
    "id": sa.func.gen_random_uuid(),
    "created_at": _P("now"),
}
_RUN_AFTER = (
    insert(_runs)
    .from_select(
        [c.name for c in _runs.c],
        sa.select(
            *(_FILLED.get(c.name, _P(f"run_{c.name}", type_=c.type)) for c in _runs.c)
        ),
    )
    .on_conflict_do_nothing(index_elements=["tenant_id", "message_id"])
    .cte("run")
)
_CALLS = (
    sa.func.jsonb_to_recordset(_P("calls", type_=JSONB))
    .table_valued(
        *(sa.column(c.name, c.type) for c in _usage.c if c.name not in _FILLED)
    )
    .render_derived(name="calls", with_types=True)
)
_CALLS_AFTER = (
    insert(_usage)
    .from_select(
        [*_FILLED, *_CALLS.c.keys()],
        sa.select(*_FILLED.values(), *_CALLS.c).join_from(_DONE, _CALLS, sa.true()),
    )
    .cte("calls_written")
)
_FINISH_WITH_RUN = sa.select(_DONE.c.id).add_cte(_RUN_AFTER, _CALLS_AFTER)

_REPLY = insert(_messages).on_conflict_do_nothing(
    index_elements=["tenant_id", "sender_key", "client_message_id"]
)
_SENDER = sa.select(_users.c.id, _users.c.role, _users.c.disabled).where(
    _users.c.tenant_id == _P("t"), _users.c.id == _P("u")
)
_MONTH_TOKENS = sa.select(_months.c.tokens).where(_months.c.month == _P("month"))
_ACTION = (
    insert(_actions)
    .on_conflict_do_nothing(index_elements=["tenant_id", "message_id", "position"])
    .returning(*_actions.c)
)


@dataclass(frozen=True)
class Sender:
    """What a turn needs of the person who sent the message."""

    id: uuid.UUID
    role: str
    disabled: bool


async def sender(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> Sender | None:
    conn = await session.connection()
    row = (await conn.execute(_SENDER, {"t": tenant_id, "u": user_id})).first()
    return None if row is None else Sender(*row)


async def tokens_in_month(session: AsyncSession, month: date) -> int:
    """The tenant's tokens in `month` (row-level security picks the tenant)."""
    conn = await session.connection()
    total = (await conn.execute(_MONTH_TOKENS, {"month": month})).scalar()
    return int(total or 0)


@dataclass(frozen=True)
class Claimed:
    """A message a turn now processes, with what the turn reads before retrieval."""

    message: Message
    tenant: Tenant
    sender: Sender | None
    month_tokens: int  # the tenant's tokens in the month the claim was made


async def claim(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    tries: int,
    month: date,
) -> Claimed | None:
    """The message, now processing with one attempt more, its tenant, its sender
    and the tenant's tokens in `month`; None when it is not claimable as it stands
    (finished, not a user's, out of attempts)."""
    conn = await session.connection()
    row = (
        await conn.execute(
            _CLAIM,
            {
                "t": tenant_id,
                "m": message_id,
                "max_attempts": tries,
                "now": utcnow(),
                "month": month,
            },
        )
    ).first()
    if row is None:
        return None
    values = row._asdict()
    tokens = int(values.pop(_MONTH_TOKENS_LABEL))
    tenant, sender = (
        _prefixed(values, _TENANT_PREFIX),
        _prefixed(values, _SENDER_PREFIX),
    )
    return Claimed(
        _loaded(Message(**values)),
        _loaded(Tenant(**tenant)),
        None if sender["id"] is None else Sender(**sender),
        tokens,
    )


def _prefixed(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The columns labelled `prefix`..., taken out of `values`, without it."""
    return {
        k.removeprefix(prefix): values.pop(k)
        for k in list(values)
        if k.startswith(prefix)
    }


def _loaded(obj: T) -> T:
    """As if the session had loaded it: a later session can take it and update
    it (a transient object would be inserted)."""
    make_transient_to_detached(obj)
    return obj


async def finish_with_run(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    error: str | None,
    run: dict[str, Any],
    calls: list[dict[str, Any]],
) -> bool:
    """Mark the message done and write its run record (`run`: the assistant_runs
    columns the turn knows) and model calls (`calls`: llm_usage rows), in this
    transaction and one statement; False, and nothing written, when another run
    of the job finished it first."""
    conn = await session.connection()
    params = {
        "t": tenant_id,
        "m": message_id,
        "error": error,
        "now": utcnow(),
        "calls": calls,
        **{f"run_{k}": v for k, v in run.items()},
    }
    return (await conn.execute(_FINISH_WITH_RUN, params)).first() is not None


async def write_reply(session: AsyncSession, msg: Message, text: str) -> None:
    """The assistant's reply to `msg`, once (its client id is the message's)."""
    now = utcnow()
    conn = await session.connection()
    await conn.execute(
        _REPLY,
        {
            "tenant_id": msg.tenant_id,
            "id": uuid.uuid4(),
            "conversation_id": msg.conversation_id,
            "sender_user_id": None,
            "sender_key": "assistant",
            "author": "assistant",
            "client_message_id": f"reply:{msg.id}",
            "body": text[:MAX_MESSAGE_CHARS] or "…",
            "source": "assistant",
            "status": MessageStatus.done.value,
            "attempts": 0,
            "reply_to_id": msg.id,
            "created_at": now,
            "updated_at": now,
        },
    )


async def insert_action(
    session: AsyncSession, values: dict[str, Any]
) -> ProposedAction | None:
    """The action at (message, position), once; None when an earlier run of the
    job wrote it (the unique key decides, so two runs cannot both act)."""
    conn = await session.connection()
    row = (
        await conn.execute(
            _ACTION, {"id": uuid.uuid4(), "created_at": utcnow(), **values}
        )
    ).first()
    return None if row is None else _loaded(ProposedAction(**row._asdict()))
