"""Resolve stored recipient refs (team:kitchen, property:maple-court-12...) to the
active users they mean *now*, inside one tenant session. Used for deliveries that
happen later than validation (reminders), so team changes are respected; the refs
themselves were validated against the sender's role when they were proposed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Property, Team, TeamMember, User


async def resolve_refs(session: AsyncSession, refs: Iterable[str]) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    active = col(User.disabled).is_(False)
    for ref in refs:
        kind, _, name = ref.partition(":")
        if kind == "user":
            stmt = select(User.id).where(User.handle == name, active)
        elif kind == "team":
            stmt = (
                select(User.id)
                .join(TeamMember, col(TeamMember.user_id) == col(User.id))
                .join(Team, col(Team.id) == col(TeamMember.team_id))
                .where(Team.slug == name, active)
            )
        elif kind == "role":
            stmt = select(User.id).where(User.role == name, active)
        elif kind == "property":
            stmt = (
                select(User.id)
                .join(Property, col(Property.id) == col(User.property_id))
                .where(Property.slug == name, User.role == "resident", active)
            )
        else:
            continue
        ids.extend((await session.exec(stmt)).all())
    return list(dict.fromkeys(ids))
