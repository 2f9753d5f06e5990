"""Submitting and reading messages.

A message is committed to PostgreSQL first (idempotent on the client's message id),
then its job is queued (after commit). If queueing fails, the message stays
`received` and the sweeper queues it later: nothing is lost.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import tenant_gate
from app.core.db import tenant_session
from app.core.logs import log_context
from app.core.queue import enqueue_message
from app.domain.actor import Actor
from app.domain.errors import Invalid
from app.domain.limits import MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS
from app.domain.models import Conversation, Message, MessageStatus, table, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitResult:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    created: bool
    status: str  # the message's status as submitting leaves it


def _check(body: str, client_message_id: str) -> str:
    text = (body or "").strip()
    if not text:
        raise Invalid("The message is empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise Invalid(f"The message is longer than {MAX_MESSAGE_CHARS} characters.")
    if not client_message_id or len(client_message_id) > MAX_CLIENT_ID_CHARS:
        raise Invalid(f"client_message_id must be 1-{MAX_CLIENT_ID_CHARS} characters.")
    return text


async def conversation_for(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID | None
) -> Conversation:
    """The user's assistant conversation (one per user; one per tenant for events).

    Race-free: concurrent first messages all INSERT ... ON CONFLICT DO NOTHING on
    the unique (tenant_id, user_id) index, which waits for a concurrent insert to
    commit, and then all read the one row that exists."""
    stmt = select(Conversation).where(
        Conversation.tenant_id == tenant_id,
        Conversation.user_id == user_id
        if user_id
        else col(Conversation.user_id).is_(None),
    )
    conv = (await session.exec(stmt)).first()
    if conv is None:
        title = "Assistant" if user_id else "Integrations"
        new = Conversation(tenant_id=tenant_id, user_id=user_id, title=title)
        await session.execute(
            insert(Conversation)
            .values(new.model_dump())
            .on_conflict_do_nothing(index_elements=["tenant_id", "user_id"])
        )
        conv = (await session.exec(stmt)).one()
    return conv


_messages = table(Message)
_conversations = table(Conversation)
# The columns a new message is written with, each from the bound parameter of the
# same name (the conversation's id comes from the conversations table).
_NEW_MESSAGE = (
    "tenant_id",
    "id",
    "sender_user_id",
    "sender_key",
    "author",
    "client_message_id",
    "body",
    "source",
    "status",
    "clock",
    "created_at",
    "updated_at",
)


def _into_conversation(owner: sa.ColumnElement[bool]) -> sa.Insert:
    """A new message in its sender's existing conversation, found by the same
    statement: one round trip for a sender's every message but the first. No row
    back: there is no conversation yet, or the message is a resend (same client
    id); the caller then takes the slower path, which tells the two apart."""
    found = sa.select(
        *(bindparam(name, type_=_messages.c[name].type) for name in _NEW_MESSAGE),
        _conversations.c.id,
    ).where(_conversations.c.tenant_id == bindparam("tenant_id"), owner)
    return (
        insert(_messages)
        .from_select([*_NEW_MESSAGE, "conversation_id"], found)
        .on_conflict_do_nothing(
            index_elements=["tenant_id", "sender_key", "client_message_id"]
        )
        .returning(_messages.c.id, _messages.c.conversation_id)
    )


# A user's conversation, and an integration's (the tenant's one with no user).
_INTO_USERS = _into_conversation(
    _conversations.c.user_id == bindparam("sender_user_id")
)
_INTO_INTEGRATIONS = _into_conversation(_conversations.c.user_id.is_(None))


async def _store(
    tenant_id: uuid.UUID,
    sender_user_id: uuid.UUID | None,
    sender_key: str,
    body: str,
    client_message_id: str,
    source: str,
    clock: datetime | None,
) -> SubmitResult:
    text = _check(body, client_message_id)
    now = utcnow()
    values = {
        "tenant_id": tenant_id,
        "id": uuid.uuid4(),
        "sender_user_id": sender_user_id,
        "sender_key": sender_key,
        "author": "user" if sender_user_id else "event",
        "client_message_id": client_message_id,
        "body": text,
        "source": source,
        "status": MessageStatus.received.value,
        "clock": clock,
        "created_at": now,
        "updated_at": now,
    }
    async with tenant_gate.submits(tenant_id):
        stored = await _insert(values)
        if not stored.created:
            return stored
        # Committed: now its job is queued (the sweeper retries if this fails).
        if not await queue_message(tenant_id, stored.message_id):
            return stored
    return replace(stored, status=MessageStatus.queued.value)


async def _insert(values: dict[str, Any]) -> SubmitResult:
    """The message, committed as `received`; or, for a resend, the message that
    already has its client id, unchanged (created False)."""
    tenant_id, sender_user_id = values["tenant_id"], values["sender_user_id"]
    into = _INTO_USERS if sender_user_id else _INTO_INTEGRATIONS
    async with tenant_session(tenant_id) as s:
        conn = await s.connection()
        row = (await conn.execute(into, values)).first()
        if row is None:
            # The sender's first message (no conversation yet) or a resend: with
            # the conversation made sure of, a second miss is a resend.
            await conversation_for(s, tenant_id, sender_user_id)
            row = (await conn.execute(into, values)).first()
        if row is not None:
            return SubmitResult(
                row.id, row.conversation_id, True, MessageStatus.received.value
            )
        # ON CONFLICT: a resend (same client id) is the same message.
        existing = (
            await s.exec(
                select(Message).where(
                    Message.tenant_id == tenant_id,
                    Message.sender_key == values["sender_key"],
                    Message.client_message_id == values["client_message_id"],
                )
            )
        ).one()
        return SubmitResult(
            existing.id, existing.conversation_id, False, existing.status
        )


# Handed to the queue: received -> queued, unless a turn has already moved it on.
_MARK_QUEUED = (
    update(_messages)
    .where(
        _messages.c.tenant_id == bindparam("t"),
        _messages.c.id == bindparam("m"),
        _messages.c.status == MessageStatus.received.value,
    )
    .values(status=MessageStatus.queued.value, updated_at=bindparam("now"))
)


async def queue_message(tenant_id: uuid.UUID, message_id: uuid.UUID) -> bool:
    """Queue the job for a committed message and mark it `queued`; False when it
    stays `received` (the sweeper queues it later)."""
    with log_context(tenant_id=tenant_id, message_id=message_id):
        try:
            if not await enqueue_message(tenant_id, message_id):
                return False
            async with tenant_session(tenant_id) as s:
                conn = await s.connection()
                await conn.execute(
                    _MARK_QUEUED, {"t": tenant_id, "m": message_id, "now": utcnow()}
                )
        except Exception:
            log.warning("queueing failed; the sweeper will retry", exc_info=True)
            return False
        return True


async def submit_message(
    actor: Actor,
    body: str,
    client_message_id: str,
    source: str = "chat",
    clock: datetime | None = None,
) -> SubmitResult:
    """A user's message. `clock` pins "now" for scenario runs and tests."""
    return await _store(
        actor.tenant_id,
        actor.user_id,
        actor.ref,
        body,
        client_message_id,
        source,
        clock,
    )


async def submit_event(
    tenant_id: uuid.UUID, api_key_id: uuid.UUID, body: str, client_message_id: str
) -> SubmitResult:
    """An integration's inbound event: enters the same pipeline as a chat message."""
    return await _store(
        tenant_id,
        None,
        f"apikey:{api_key_id}",
        body,
        client_message_id,
        "integration",
        None,
    )


async def post_assistant_note(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    body: str,
    key: str,
) -> None:
    """An assistant message in the user's chat that answers no message (news about
    their request), inside the caller's transaction; once per `key` and user."""
    conv = await conversation_for(session, tenant_id, user_id)
    stmt = (
        insert(Message)
        .values(
            tenant_id=tenant_id,
            id=uuid.uuid4(),
            conversation_id=conv.id,
            sender_user_id=None,
            sender_key="assistant",
            author="assistant",
            client_message_id=f"note:{key}:{user_id.hex}"[:MAX_CLIENT_ID_CHARS],
            body=body[:MAX_MESSAGE_CHARS],
            source="assistant",
            status=MessageStatus.done.value,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=["tenant_id", "sender_key", "client_message_id"]
        )
    )
    await session.execute(stmt)
