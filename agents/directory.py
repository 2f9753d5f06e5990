"""The people, teams and properties a sender may address, and ref resolution.

Loaded through the sender's tenant session, so row-level security already limits
it to one tenant; on top of that, a resident's directory holds only staff, the
resident themselves and their own property: the model cannot leak (or address)
neighbours it was never shown. Recipient references resolve only inside this
directory, so a name from another tenant, or a hidden resident, is simply unknown.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import STAFF_ROLES, Actor
from app.models import (
    WEEKDAYS,
    Property,
    PropertyService,
    Team,
    TeamMember,
    Tenant,
    Unit,
    User,
)
from app.services.errors import NotFound

REF_KINDS = ("user", "team", "role", "property")


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    handle: str
    name: str
    role: str
    teams: tuple[str, ...] = ()
    property: str | None = None
    unit: str | None = None

    # `property` is a field name here, so the decorator is spelled in full.
    @builtins.property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class TeamEntry:
    id: uuid.UUID
    slug: str
    name: str
    member_ids: tuple[uuid.UUID, ...]
    lead_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ServiceEntry:
    id: uuid.UUID
    name: str
    team: str | None
    weekday: int | None
    month_day: int | None
    time: str

    @property
    def when(self) -> str:
        if self.weekday is not None:
            return f"every {WEEKDAYS[self.weekday].title()} at {self.time}"
        if self.month_day is not None:
            return f"every month on day {self.month_day} at {self.time}"
        return f"at {self.time}"


@dataclass(frozen=True)
class PropertyEntry:
    id: uuid.UUID
    slug: str
    name: str
    address: str
    units: dict[str, uuid.UUID]
    services: tuple[ServiceEntry, ...] = ()

    def service(self, name: str) -> ServiceEntry | None:
        wanted = name.strip().lower()
        return next((s for s in self.services if s.name.lower() == wanted), None)

    def unit_id(self, label: str) -> uuid.UUID | None:
        wanted = label.strip().lower()
        return next((i for lab, i in self.units.items() if lab.lower() == wanted), None)


@dataclass(frozen=True)
class TenantInfo:
    id: uuid.UUID
    slug: str
    name: str
    kind: str
    timezone: str
    policy: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolved:
    """What a reference points at: the users it reaches and what it names."""

    ref: str
    kind: str
    user_ids: tuple[uuid.UUID, ...]
    team: TeamEntry | None = None
    person: Person | None = None
    property: PropertyEntry | None = None


class UnknownRef(LookupError):
    def __init__(self, ref: str, why: str = "is not in your directory") -> None:
        super().__init__(f"{ref} {why}")
        self.ref = ref
        self.reason = f"{ref} {why}"


@dataclass(frozen=True)
class Directory:
    tenant: TenantInfo
    sender: Person
    people: tuple[Person, ...]
    teams: tuple[TeamEntry, ...]
    properties: tuple[PropertyEntry, ...]

    def person(self, handle: str) -> Person | None:
        h = handle.lower()
        return next((p for p in self.people if p.handle.lower() == h), None)

    def person_by_id(self, user_id: uuid.UUID) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def team(self, slug: str) -> TeamEntry | None:
        s = slug.lower()
        return next((t for t in self.teams if t.slug.lower() == s), None)

    def property(self, slug: str) -> PropertyEntry | None:
        s = slug.lower()
        return next((p for p in self.properties if p.slug.lower() == s), None)

    def residents_of(self, prop: PropertyEntry) -> tuple[Person, ...]:
        return tuple(
            p for p in self.people if p.role == "resident" and p.property == prop.slug
        )

    def resolve(self, ref: str) -> Resolved:
        """user:/team:/role:/property: → users, only inside this directory."""
        kind, sep, key = ref.strip().partition(":")
        kind = kind.lower()
        if not sep or kind not in REF_KINDS or not key:
            raise UnknownRef(ref, "is not a recipient reference")
        if kind == "user":
            person = self.person(key)
            if person is None:
                raise UnknownRef(ref)
            return Resolved(ref, kind, (person.id,), person=person)
        if kind == "team":
            team = self.team(key)
            if team is None:
                raise UnknownRef(ref)
            return Resolved(ref, kind, team.member_ids, team=team)
        if kind == "role":
            ids = tuple(p.id for p in self.people if p.role == key.lower())
            if not ids:
                raise UnknownRef(ref, "matches nobody in your directory")
            return Resolved(ref, kind, ids)
        prop = self.property(key)
        if prop is None:
            raise UnknownRef(ref)
        ids = tuple(p.id for p in self.residents_of(prop))
        return Resolved(ref, kind, ids, property=prop)


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID) -> TenantInfo:
    row = (await session.exec(select(Tenant).where(Tenant.id == tenant_id))).first()
    if row is None:
        raise NotFound("tenant not found")
    return TenantInfo(
        row.id, row.slug, row.name, row.kind, row.timezone, dict(row.policy or {})
    )


async def load_directory(session: AsyncSession, actor: Actor) -> Directory:
    """Everything the sender may address, read through their tenant session."""
    tenant = await _tenant(session, actor.tenant_id)
    tid = actor.tenant_id
    # Explicit tenant filters on top of RLS: a session scoped to the wrong tenant
    # would then return nothing instead of another tenant's people.
    users = (await session.exec(select(User).where(User.tenant_id == tid))).all()
    teams = (await session.exec(select(Team).where(Team.tenant_id == tid))).all()
    members = (
        await session.exec(select(TeamMember).where(TeamMember.tenant_id == tid))
    ).all()
    props = (
        await session.exec(select(Property).where(Property.tenant_id == tid))
    ).all()
    units = (await session.exec(select(Unit).where(Unit.tenant_id == tid))).all()
    services = (
        await session.exec(
            select(PropertyService).where(
                PropertyService.tenant_id == tid,
                PropertyService.active.is_(True),  # type: ignore[attr-defined]
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
    if sender is None and actor.role == "integration":
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
    team_entries = [
        TeamEntry(
            t.id,
            t.slug,
            t.name,
            tuple(m.user_id for m in members if m.team_id == t.id),
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
