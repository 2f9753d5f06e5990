"""What the assistant knows, for the admin console: browse memories by scope
(organisation, team, person) and source (seeded, learnt from a conversation, from
an action, added here), add, edit and forget.

Forgetting deletes the row, its embedding and its full-text vector with it, so no
retrieval can find it again. An edit drops the old embedding in the same statement
(a stale vector never points at new text) and stores the new one computed before
the transaction; if the embedding model fails the row waits with no vector for the
sweeper (embed_pending_memories). Memory text is never copied into the audit log.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy import text as sql
from sqlmodel import col, select

from agents.embeddings import embed_texts
from agents.retrieval import vector_literal
from app.core.db import tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.errors import Invalid, NotFound
from app.domain.limits import MAX_TEXT_CHARS
from app.domain.models import Memory, MemoryScope, Team, User
from app.services import audit
from app.services.memories import remember
from app.services.paging import page_count

log = logging.getLogger(__name__)
PAGE_SIZE = 25
SOURCES = {
    "seed": "seeded",
    "message": "learnt from a conversation",
    "action": "from an action",
    "console": "added by an admin",
}


@dataclass(frozen=True)
class MemoryRow:
    id: uuid.UUID
    scope: str
    about: str  # "organisation", the team's or the person's name
    source: str
    text: str
    created_at: datetime
    embedded: bool


@dataclass(frozen=True)
class MemoryPage:
    memories: list[MemoryRow]
    total: int
    page: int
    pages: int


def _check_text(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_TEXT_CHARS:
        raise Invalid(f"A memory needs 1-{MAX_TEXT_CHARS} characters.")
    return text


async def list_memories(
    actor: Actor,
    scope: str = "",
    source: str = "",
    query: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> MemoryPage:
    require_admin(actor, "see what the assistant remembers")
    tid = actor.tenant_id
    where: list[Any] = [col(Memory.tenant_id) == tid]
    if scope:
        where.append(col(Memory.scope) == MemoryScope(scope).value)
    if source:
        if source not in SOURCES:
            raise Invalid("Unknown source.")
        where.append(col(Memory.source_type) == source)
    if query.strip():
        pattern = "%" + query.strip().lower()[:100].replace("%", r"\%") + "%"
        where.append(func.lower(col(Memory.text)).like(pattern))
    size = max(1, min(page_size, 100))
    async with tenant_session(tid) as s:
        total = int((await s.exec(select(func.count()).where(*where))).one())
        pages = page_count(total, size)
        page = max(1, min(page, pages))
        # Eight columns: SQLAlchemy's select (sqlmodel's types stop at four).
        rows = (
            await s.execute(
                sa_select(
                    col(Memory.id),
                    col(Memory.scope),
                    col(Memory.team_id),
                    col(Memory.user_id),
                    col(Memory.source_type),
                    col(Memory.text),
                    col(Memory.created_at),
                    col(Memory.embedding).is_not(None),
                )
                .where(*where)
                .order_by(col(Memory.created_at).desc(), col(Memory.id))
                .limit(size)
                .offset((page - 1) * size)
            )
        ).all()
        team_ids = {r[2] for r in rows if r[2]}
        user_ids = {r[3] for r in rows if r[3]}
        teams = (
            dict(
                (
                    await s.exec(
                        select(Team.id, Team.name).where(
                            Team.tenant_id == tid, col(Team.id).in_(team_ids)
                        )
                    )
                ).all()
            )
            if team_ids
            else {}
        )
        users = (
            dict(
                (
                    await s.exec(
                        select(User.id, User.name).where(
                            User.tenant_id == tid, col(User.id).in_(user_ids)
                        )
                    )
                ).all()
            )
            if user_ids
            else {}
        )
    out = []
    for mid, sc, team_id, user_id, src, text, created, embedded in rows:
        about = (
            teams.get(team_id, "(team)")
            if sc == "team" and team_id
            else users.get(user_id, "(person)")
            if sc == "user" and user_id
            else "organisation"
        )
        out.append(
            MemoryRow(
                mid, sc, about, SOURCES.get(src, src), text, created, bool(embedded)
            )
        )
    return MemoryPage(out, total, page, pages)


async def _embedding(text: str) -> list[float] | None:
    """The text's vector, computed before any connection is taken; None when the
    model failed (the sweeper embeds the row later)."""
    try:
        return (await embed_texts([text]))[0]
    except Exception:
        log.warning("memory embedding failed; left for the sweeper", exc_info=True)
        return None


async def add_memory(
    actor: Actor,
    *,
    scope: str,
    text: str,
    team_id: uuid.UUID | None = None,
    user_email: str = "",
) -> uuid.UUID:
    """A memory an admin writes down: for everyone, one team, or one person."""
    require_admin(actor, "add memories")
    text = _check_text(text)
    try:
        scope = MemoryScope(scope).value
    except ValueError:
        raise Invalid("The scope must be tenant, team or user.") from None
    vector = await _embedding(text)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        user_id = None
        if scope == "team":
            team = await s.get(Team, (tid, team_id)) if team_id else None
            if team is None:
                raise NotFound("No such team.")
        elif scope == "user":
            user_id = (
                await s.exec(
                    select(User.id).where(
                        User.tenant_id == tid,
                        func.lower(col(User.email)) == user_email.strip().lower(),
                    )
                )
            ).first()
            if user_id is None:
                raise NotFound("No one with this email in your organisation.")
        memory_id = await remember(
            s,
            tid,
            scope,
            text,
            "console",
            uuid.uuid4().hex,
            team_id=team_id if scope == "team" else None,
            user_id=user_id,
            embedding=vector,
        )
        audit.record(
            s, tid, actor.ref, "memory.created", f"memory:{memory_id}", {"scope": scope}
        )
    return memory_id


async def edit_memory(actor: Actor, memory_id: uuid.UUID, text: str) -> None:
    require_admin(actor, "edit memories")
    text = _check_text(text)
    vector = await _embedding(text)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        changed = (
            await s.execute(
                sql(
                    "UPDATE memories SET text = :text, "
                    "embedding = CAST(:e AS vector) "
                    "WHERE tenant_id = :t AND id = :id RETURNING id"
                ),
                {
                    "t": tid,
                    "id": memory_id,
                    "text": text,
                    "e": vector_literal(vector) if vector is not None else None,
                },
            )
        ).first()
        if changed is None:
            raise NotFound("No such memory.")
        audit.record(s, tid, actor.ref, "memory.updated", f"memory:{memory_id}")


async def forget_memory(actor: Actor, memory_id: uuid.UUID) -> None:
    """Delete the memory: its text, embedding and full-text vector go with it."""
    require_admin(actor, "forget memories")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        gone = (
            await s.execute(
                sql(
                    "DELETE FROM memories WHERE tenant_id = :t AND id = :id "
                    "RETURNING scope"
                ),
                {"t": tid, "id": memory_id},
            )
        ).first()
        if gone is None:
            raise NotFound("No such memory.")
        audit.record(
            s,
            tid,
            actor.ref,
            "memory.forgotten",
            f"memory:{memory_id}",
            {"scope": str(gone[0])},
        )


async def memory_text(actor: Actor, memory_id: uuid.UUID) -> str:
    require_admin(actor, "see what the assistant remembers")
    async with tenant_session(actor.tenant_id) as s:
        text = (
            await s.exec(
                select(Memory.text).where(
                    Memory.tenant_id == actor.tenant_id, Memory.id == memory_id
                )
            )
        ).first()
    if text is None:
        raise NotFound("No such memory.")
    return text
