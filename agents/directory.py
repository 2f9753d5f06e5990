"""Loading a sender's Directory (app/domain/directory.py) from the database.

Read through the sender's tenant session, so row-level security limits it to one
tenant; explicit tenant filters on top of RLS make a wrongly scoped session return
nothing rather than another tenant's people.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain.actor import Actor
from app.domain.directory import (
    Directory,
    Person,
    PropertyEntry,
    ServiceEntry,
    TeamEntry,
    TenantInfo,
)
from app.domain.errors import NotFound
from app.domain.models import (
    Property,
    PropertyService,
    Team,
    TeamMember,
    Tenant,
    Unit,
    User,
)
from app.domain.roles import INTEGRATION_ROLE


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID) -> TenantInfo:
    row = (
        await session.execute(
            sa_select(
                col(Tenant.id),
                col(Tenant.slug),
                col(Tenant.name),
                col(Tenant.kind),
                col(Tenant.timezone),
                col(Tenant.policy),
            ).where(col(Tenant.id) == tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound("tenant not found")
    return TenantInfo(
        row.id, row.slug, row.name, row.kind, row.timezone, dict(row.policy or {})
    )


async def load_directory(session: AsyncSession, actor: Actor) -> Directory:
    """Everything the sender may address, read through their tenant session."""
    tenant = await _tenant(session, actor.tenant_id)
    tid = actor.tenant_id
    # Plain column rows, not ORM entities: this runs every turn for every person,
    # property and unit of the tenant, and entity hydration (identity map, state
    # tracking) was most of its cost. Explicit tenant filters on top of RLS: a
    # session scoped to the wrong tenant would then return nothing instead of
    # another tenant's people.
    users = (
        await session.execute(
            sa_select(
                col(User.id),
                col(User.handle),
                col(User.name),
                col(User.role),
                col(User.disabled),
                col(User.property_id),
                col(User.unit_id),
            ).where(col(User.tenant_id) == tid)
        )
    ).all()
    teams = (
        await session.execute(
            sa_select(col(Team.id), col(Team.slug), col(Team.name)).where(
                col(Team.tenant_id) == tid
            )
        )
    ).all()
    members = (
        await session.execute(
            sa_select(
                col(TeamMember.team_id),
                col(TeamMember.user_id),
                col(TeamMember.is_lead),
            ).where(col(TeamMember.tenant_id) == tid)
        )
    ).all()
    # Archived properties and units are not offered to the assistant at all.
    props = (
        await session.execute(
            sa_select(
                col(Property.id),
                col(Property.slug),
                col(Property.name),
                col(Property.address),
            ).where(
                col(Property.tenant_id) == tid,
                col(Property.archived_at).is_(None),
            )
        )
    ).all()
    units = (
        await session.execute(
            sa_select(col(Unit.id), col(Unit.property_id), col(Unit.label)).where(
                col(Unit.tenant_id) == tid,
                col(Unit.archived_at).is_(None),
            )
        )
    ).all()
    services = (
        await session.execute(
            sa_select(
                col(PropertyService.id),
                col(PropertyService.property_id),
                col(PropertyService.name),
                col(PropertyService.team_id),
                col(PropertyService.weekday),
                col(PropertyService.month_day),
                col(PropertyService.time_of_day),
                col(PropertyService.vendor),
            ).where(
                col(PropertyService.tenant_id) == tid,
                col(PropertyService.active).is_(True),
            )
        )
    ).all()

    team_slug = {t.id: t.slug for t in teams}
    prop_slug = {p.id: p.slug for p in props}
    unit_label = {u.id: u.label for u in units}
    user_teams: dict[uuid.UUID, list[str]] = {}
    for m in members:
        user_teams.setdefault(m.user_id, []).append(team_slug[m.team_id])

    people_all = [
        Person(
            id=u.id,
            handle=u.handle,
            name=u.name,
            role=u.role,
            teams=tuple(sorted(user_teams.get(u.id, []))),
            property=prop_slug.get(u.property_id) if u.property_id else None,
            unit=unit_label.get(u.unit_id) if u.unit_id else None,
        )
        for u in sorted(users, key=lambda u: u.handle)
        if not u.disabled
    ]
    sender = next((p for p in people_all if p.id == actor.user_id), None)
    if sender is None and actor.role == INTEGRATION_ROLE:
        # An inbound event (supplier system...): a sender with no person behind it.
        sender = Person(actor.user_id, "integration", "Integration", "integration")
    if sender is None:
        raise NotFound("sender not found")

    entries: list[PropertyEntry] = []
    for p in sorted(props, key=lambda p: p.slug):
        svc = tuple(
            ServiceEntry(
                s.id,
                s.name,
                team_slug.get(s.team_id) if s.team_id else None,
                s.weekday,
                s.month_day,
                s.time_of_day,
                s.vendor,
            )
            for s in sorted(services, key=lambda s: s.name)
            if s.property_id == p.id
        )
        labels = {
            u.label: u.id
            for u in sorted(units, key=lambda u: u.label)
            if u.property_id == p.id
        }
        entries.append(PropertyEntry(p.id, p.slug, p.name, p.address, labels, svc))
    # A team reaches its active members only (disabled accounts are not people).
    active = {p.id for p in people_all}
    team_entries = [
        TeamEntry(
            t.id,
            t.slug,
            t.name,
            tuple(
                m.user_id for m in members if m.team_id == t.id and m.user_id in active
            ),
            next((m.user_id for m in members if m.team_id == t.id and m.is_lead), None),
        )
        for t in sorted(teams, key=lambda t: t.slug)
    ]

    if sender.role == "resident":
        # Residents address staff and themselves; their own property only.
        people = [p for p in people_all if p.is_staff or p.id == sender.id]
        entries = [e for e in entries if e.slug == sender.property]
    else:
        people = people_all
    return Directory(tenant, sender, tuple(people), tuple(team_entries), tuple(entries))


async def load_everyone(session: AsyncSession, tenant_id: uuid.UUID) -> Directory:
    """The whole tenant's directory (every active person), for deliveries that
    happen after validation, such as reminders: stored refs resolve with the same
    rules as when they were proposed, against who is on the team now."""
    return await load_directory(
        session, Actor(tenant_id, uuid.UUID(int=0), INTEGRATION_ROLE)
    )
