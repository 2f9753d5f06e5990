"""Reading a person's conversation one page at a time (keyset pagination).

A chat opens at its newest page and loads older pages as the person scrolls up.
Pages are cut by (created_at, id), never by OFFSET: a message arriving while someone
reads history does not shift the next page, and each page is one index range scan
(`ix_messages_conversation`). The cursor is a message id of the caller's own
conversation; any other id is "not found", like everywhere else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, tuple_
from sqlalchemy.sql.elements import Tuple
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import NotFound
from app.domain.models import Message
from app.services.messages import conversation_for

PAGE_SIZE = 50
MAX_PAGE = 200
# A refresh re-reads everything from the oldest message on screen; someone who
# scrolled back further than this gets the newest MAX_WINDOW (and can scroll again).
MAX_WINDOW = 1000


@dataclass(frozen=True)
class ConversationPage:
    messages: list[Message]  # oldest first
    more: bool  # older messages exist before the first one


def _key() -> Tuple:
    return tuple_(col(Message.created_at), col(Message.id))


async def _cursor(
    session: AsyncSession, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[datetime, uuid.UUID] | None:
    row = (
        await session.exec(
            select(Message.created_at, Message.id).where(
                Message.conversation_id == conversation_id, Message.id == message_id
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def conversation_page(
    actor: Actor,
    *,
    before: uuid.UUID | None = None,
    since: uuid.UUID | None = None,
    limit: int = PAGE_SIZE,
) -> ConversationPage:
    """The caller's own messages, oldest first.

    - no cursor: the newest `limit` (where a chat opens);
    - `before`: the `limit` just older than that message (scrolling up); an id
      not in the caller's conversation is NotFound;
    - `since`: that message and everything newer, at most MAX_WINDOW (refreshing
      what is on screen); an id no longer there falls back to the newest page.
    """
    if before is not None and since is not None:
        raise ValueError("before or since, not both")
    limit = max(1, min(limit, MAX_WINDOW if since else MAX_PAGE))
    async with tenant_session(actor.tenant_id) as s:
        conv = await conversation_for(s, actor.tenant_id, actor.user_id)
        stmt = select(Message).where(Message.conversation_id == conv.id)
        cursor = None
        if before is not None:
            cursor = await _cursor(s, conv.id, before)
            if cursor is None:
                raise NotFound("Not found.")
            stmt = stmt.where(_key() < tuple_(*cursor))
        elif since is not None:
            cursor = await _cursor(s, conv.id, since)
            if cursor is not None:
                stmt = stmt.where(_key() >= tuple_(*cursor))
            else:
                limit = PAGE_SIZE
        rows = list(
            (
                await s.exec(
                    stmt.order_by(
                        col(Message.created_at).desc(), col(Message.id).desc()
                    ).limit(limit + 1)
                )
            ).all()
        )
        more = len(rows) > limit
        rows = rows[:limit]
        if not more and since is not None and cursor is not None and rows:
            # The window ends at the cursor: is there anything before it?
            oldest = rows[-1]
            more = bool(
                (
                    await s.exec(
                        select(
                            exists().where(
                                col(Message.conversation_id) == conv.id,
                                _key() < tuple_(oldest.created_at, oldest.id),
                            )
                        )
                    )
                ).one()
            )
    rows.reverse()
    return ConversationPage(rows, more)
