"""The people, teams and properties a sender may address, and ref resolution.

Pure data: agents/directory.py loads it through the sender's tenant session, so
row-level security already limits it to one tenant; on top of that, a resident's
directory holds only staff, the resident themselves and their own property: the
model cannot leak (or address) neighbours it was never shown. Recipient refs
resolve only inside a directory, so a name from another tenant, or a hidden
resident, is simply unknown. Disabled accounts are not in a directory at all: a
ref never reaches them, whether it is resolved now or when a reminder fires.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.domain.recurrence import Recurrence
from app.domain.roles import STAFF_ROLES

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
    vendor: str = ""  # an outside company doing it (no team)

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(self.time, self.weekday, self.month_day)

    @property
    def when(self) -> str:
        return self.recurrence.describe()


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

    # A method, not a property: the field `property` hides the builtin here.
    def label(self) -> str:
        """What the ref names, as a person says it ("Omar Haddad", "Maintenance",
        "managers", "residents of Maple Court"): approval cards and replies show
        this, never the ref."""
        if self.person is not None:
            return self.person.name
        if self.team is not None:
            return self.team.name
        if self.property is not None:
            return f"residents of {self.property.name}"
        return f"{self.ref.partition(':')[2].lower()}s"


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

    def reach(self, refs: list[str] | tuple[str, ...]) -> list[uuid.UUID]:
        """The active users a list of stored refs reaches now (unknown refs, e.g. a
        team deleted since, reach nobody); each user once."""
        ids: list[uuid.UUID] = []
        for ref in refs:
            try:
                ids.extend(self.resolve(ref).user_ids)
            except UnknownRef:
                continue
        return list(dict.fromkeys(ids))

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
