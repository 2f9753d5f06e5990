"""Loading a sender's Directory (app/domain/directory.py) from the database.

Read through the sender's tenant session, so row-level security limits it to one
tenant; explicit tenant filters on top of RLS make a wrongly scoped session return
nothing rather than another tenant's people.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import text
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
from app.domain.roles import INTEGRATION_ROLE

# The whole directory in one round trip: it is read every turn, and a query per
# table (seven, each with its driver and ORM overhead) was the largest share of a
# turn's statements. Each part comes back as a JSON array of rows (json_agg); ids are
# turned back into UUIDs below. Archived properties and units and inactive services
# are not offered to the assistant at all.
_DIRECTORY_SQL = text(
    """
    SELECT
      (SELECT json_build_array(id, slug, name, kind, timezone, policy)
         FROM tenants WHERE id = :tid) AS tenant,
      (SELECT coalesce(json_agg(json_build_array(
                id, handle, name, role, disabled, property_id, unit_id)), '[]')
         FROM users WHERE tenant_id = :tid) AS users,
      (SELECT coalesce(json_agg(json_build_array(id, slug, name)), '[]')
         FROM teams WHERE tenant_id = :tid) AS teams,
      (SELECT coalesce(json_agg(json_build_array(team_id, user_id, is_lead)), '[]')
         FROM team_members WHERE tenant_id = :tid) AS members,
      (SELECT coalesce(json_agg(json_build_array(id, slug, name, address)), '[]')
         FROM properties
        WHERE tenant_id = :tid AND archived_at IS NULL) AS props,
      (SELECT coalesce(json_agg(json_build_array(id, property_id, label)), '[]')
         FROM units WHERE tenant_id = :tid AND archived_at IS NULL) AS units,
      (SELECT coalesce(json_agg(json_build_array(
                id, property_id, name, team_id, weekday, month_day, time_of_day,
                vendor)), '[]')
         FROM property_services
        WHERE tenant_id = :tid AND active) AS services
    """
)


def _id(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


class _User(NamedTuple):
    id: uuid.UUID
    handle: str
    name: str
    role: str
    disabled: bool
    property_id: uuid.UUID | None
    unit_id: uuid.UUID | None


class _Team(NamedTuple):
    id: uuid.UUID
    slug: str
    name: str


class _Member(NamedTuple):
    team_id: uuid.UUID
    user_id: uuid.UUID
    is_lead: bool


class _Property(NamedTuple):
    id: uuid.UUID
    slug: str
    name: str
    address: str


class _Unit(NamedTuple):
    id: uuid.UUID
    property_id: uuid.UUID
    label: str


class _Service(NamedTuple):
    id: uuid.UUID
    property_id: uuid.UUID
    name: str
    team_id: uuid.UUID | None
    weekday: int | None
    month_day: int | None
    time_of_day: str
    vendor: str


async def load_directory(session: AsyncSession, actor: Actor) -> Directory:
    """Everything the sender may address, read through their tenant session."""
    row = (await session.execute(_DIRECTORY_SQL, {"tid": actor.tenant_id})).one()
    if row.tenant is None:
        raise NotFound("tenant not found")
    t_id, t_slug, t_name, t_kind, t_zone, t_policy = row.tenant
    tenant = TenantInfo(uuid.UUID(t_id), t_slug, t_name, t_kind, t_zone, t_policy or {})
    users = [
        _User(uuid.UUID(i), h, n, r, d, _id(p), _id(u))
        for i, h, n, r, d, p, u in row.users
    ]
    teams = [_Team(uuid.UUID(i), s, n) for i, s, n in row.teams]
    members = [_Member(uuid.UUID(t), uuid.UUID(u), lead) for t, u, lead in row.members]
    props = [_Property(uuid.UUID(i), s, n, a) for i, s, n, a in row.props]
    units = [_Unit(uuid.UUID(i), uuid.UUID(p), lb) for i, p, lb in row.units]
    services = [
        _Service(uuid.UUID(i), uuid.UUID(p), n, _id(tm), wd, md, tod, v)
        for i, p, n, tm, wd, md, tod, v in row.services
    ]

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
