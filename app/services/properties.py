"""Properties and their units in the admin console: list (search, pages, archived
on request), one property with its units and residents, add, edit, archive and
restore.

Archive, never delete: tasks, service logs and residents keep pointing at the row.
An archived property or unit is hidden from the console's default list, from the
residence form and from the assistant (agents/directory.py). Archiving refuses
while active residents still live there: they would lose their home in the
assistant's eyes without anyone noticing. Admins change; managers read. Every
change is audited.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.models import Property, PropertyService, Unit, User, utcnow
from app.domain.roles import APPROVER_ROLES, Role
from app.services import audit
from app.services.access import access_property, access_unit
from app.services.paging import like_pattern, page_count

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_ADDRESS = 500
MAX_LABEL = 20
MAX_PROPERTY_NAME = 200


def require_reader(actor: Actor) -> None:
    """Admins and managers see properties; only admins change them."""
    if actor.role not in APPROVER_ROLES:
        raise Forbidden("Only administrators and managers can see properties.")


@dataclass(frozen=True)
class PropertyRow:
    id: uuid.UUID
    name: str
    address: str
    units: int
    residents: int
    services: int
    archived: bool


@dataclass(frozen=True)
class PropertyPage:
    properties: list[PropertyRow]
    total: int
    page: int
    pages: int


async def list_properties(
    actor: Actor,
    query: str = "",
    archived: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PropertyPage:
    """One page of properties by name; `archived` lists the archived ones too."""
    require_reader(actor)
    tid = actor.tenant_id
    where: list[Any] = [col(Property.tenant_id) == tid]
    if not archived:
        where.append(col(Property.archived_at).is_(None))
    if query.strip():
        pattern = like_pattern(query)
        where.append(
            or_(
                func.lower(col(Property.name)).like(pattern),
                func.lower(col(Property.address)).like(pattern),
            )
        )
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    async with tenant_session(tid) as s:
        total = int((await s.exec(select(func.count()).where(*where))).one())
        pages = page_count(total, size)
        page = max(1, min(page, pages))
        props = (
            await s.exec(
                select(Property)
                .where(*where)
                .order_by(func.lower(col(Property.name)), col(Property.id))
                .limit(size)
                .offset((page - 1) * size)
            )
        ).all()
        ids = [p.id for p in props]
        units = await _counts(s, tid, Unit, col(Unit.archived_at).is_(None), ids)
        services = await _counts(
            s, tid, PropertyService, col(PropertyService.active).is_(True), ids
        )
        residents = await _counts(
            s, tid, User, col(User.role) == Role.resident.value, ids
        )
    rows = [
        PropertyRow(
            p.id,
            p.name,
            p.address,
            units.get(p.id, 0),
            residents.get(p.id, 0),
            services.get(p.id, 0),
            p.archived_at is not None,
        )
        for p in props
    ]
    return PropertyPage(rows, total, page, pages)


async def _counts(
    s: AsyncSession,
    tid: uuid.UUID,
    model: Any,
    condition: Any,
    property_ids: list[uuid.UUID],
) -> dict[uuid.UUID, int]:
    """Rows of `model` per property (one GROUP BY for the page)."""
    if not property_ids:
        return {}
    prop = col(model.property_id)
    rows = await s.exec(
        select(prop, func.count())
        .where(col(model.tenant_id) == tid, prop.in_(property_ids), condition)
        .group_by(prop)
    )
    return {pid: int(n) for pid, n in rows.all()}


# ------------------------------------------------------------------ one property


@dataclass(frozen=True)
class Resident:
    id: uuid.UUID
    name: str
    email: str
    disabled: bool


@dataclass(frozen=True)
class UnitView:
    id: uuid.UUID
    label: str
    archived: bool
    residents: list[Resident]


@dataclass(frozen=True)
class PropertyDetail:
    id: uuid.UUID
    name: str
    address: str
    archived: bool
    units: list[UnitView]
    # Residents of the property without a unit.
    elsewhere: list[Resident]


async def property_detail(actor: Actor, property_id: uuid.UUID) -> PropertyDetail:
    """A property, its units (archived ones last) and who lives in each."""
    require_reader(actor)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        units = (
            await s.exec(
                select(Unit)
                .where(Unit.tenant_id == tid, Unit.property_id == prop.id)
                .order_by(col(Unit.archived_at).is_not(None), col(Unit.label))
            )
        ).all()
        people = (
            await s.exec(
                select(User)
                .where(
                    User.tenant_id == tid,
                    User.property_id == prop.id,
                    User.role == Role.resident.value,
                )
                .order_by(col(User.name), col(User.id))
            )
        ).all()
    by_unit: dict[uuid.UUID | None, list[Resident]] = {}
    for u in people:
        by_unit.setdefault(u.unit_id, []).append(
            Resident(u.id, u.name, u.email, u.disabled)
        )
    known = {u.id for u in units}
    elsewhere = [r for key, rs in by_unit.items() if key not in known for r in rs]
    return PropertyDetail(
        prop.id,
        prop.name,
        prop.address,
        prop.archived_at is not None,
        [
            UnitView(u.id, u.label, u.archived_at is not None, by_unit.get(u.id, []))
            for u in units
        ],
        elsewhere,
    )


# ------------------------------------------------------------------ changes


def check_property_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_PROPERTY_NAME:
        raise Invalid(f"A property name needs 1-{MAX_PROPERTY_NAME} characters.")
    return name


def check_address(address: str) -> str:
    address = " ".join(address.split())
    if len(address) > MAX_ADDRESS:
        raise Invalid(f"An address has at most {MAX_ADDRESS} characters.")
    return address


def check_label(label: str) -> str:
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise Invalid(f"A unit name needs 1-{MAX_LABEL} characters.")
    return label


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    if not slug:
        raise Invalid("The property name needs a letter or digit.")
    return slug


async def _same_name(
    s: AsyncSession,
    tid: uuid.UUID,
    name: str,
    slug: str | None = None,
    other_than: Any = None,
) -> Property | None:
    """Another property called `name` (any case) or with the slug it would get."""
    same = func.lower(col(Property.name)) == name.lower()
    stmt = select(Property).where(
        Property.tenant_id == tid,
        or_(same, col(Property.slug) == slug) if slug is not None else same,
    )
    if other_than is not None:
        stmt = stmt.where(Property.id != other_than)
    return (await s.exec(stmt)).first()


def _taken(prop: Property) -> Conflict:
    hint = " (archived: show archived properties to restore it)"
    return Conflict(
        f"A property called {prop.name} already exists"
        f"{hint if prop.archived_at else ''}."
    )


async def create_property(actor: Actor, name: str, address: str = "") -> uuid.UUID:
    """A new property; its slug (the assistant's `property:<slug>` ref) comes from
    the name and never changes, so refs stored in schedules keep working."""
    require_admin(actor, "add properties")
    name, address = check_property_name(name), check_address(address)
    slug = _slug(name)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        clash = await _same_name(s, tid, name, slug)
        if clash is not None:
            raise _taken(clash)
        prop = Property(tenant_id=tid, slug=slug, name=name, address=address)
        s.add(prop)
        await s.flush()
        audit.record(
            s,
            tid,
            actor.ref,
            "property.created",
            f"property:{prop.id}",
            {"name": name, "address": address},
        )
        return prop.id


async def update_property(
    actor: Actor, property_id: uuid.UUID, name: str, address: str
) -> None:
    require_admin(actor, "edit properties")
    name, address = check_property_name(name), check_address(address)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        clash = await _same_name(s, tid, name, other_than=prop.id)
        if clash is not None:
            raise _taken(clash)
        if (prop.name, prop.address) == (name, address):
            return
        before = {"name": prop.name, "address": prop.address}
        prop.name, prop.address = name, address
        s.add(prop)
        audit.record(
            s,
            tid,
            actor.ref,
            "property.updated",
            f"property:{prop.id}",
            {"from": before, "to": {"name": name, "address": address}},
        )


async def _active_residents(s: AsyncSession, tid: uuid.UUID, *where: Any) -> list[str]:
    rows = await s.exec(
        select(User.name)
        .where(
            User.tenant_id == tid,
            User.role == Role.resident.value,
            col(User.disabled).is_(False),
            *where,
        )
        .order_by(col(User.name))
    )
    return list(rows.all())


def _still_living(names: list[str], where: str) -> Conflict:
    shown = ", ".join(names[:3]) + (
        f" and {len(names) - 3} more" if len(names) > 3 else ""
    )
    return Conflict(
        f"{shown} still {'lives' if len(names) == 1 else 'live'} at {where}: "
        "move them or disable their accounts first."
    )


async def set_property_archived(
    actor: Actor, property_id: uuid.UUID, archived: bool
) -> None:
    """Archive (hidden from lists and the assistant) or restore a property."""
    require_admin(actor, "archive properties")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        if (prop.archived_at is not None) == archived:
            return
        if archived:
            living = await _active_residents(s, tid, User.property_id == prop.id)
            if living:
                raise _still_living(living, prop.name)
        prop.archived_at = utcnow() if archived else None
        s.add(prop)
        audit.record(
            s,
            tid,
            actor.ref,
            "property.archived" if archived else "property.restored",
            f"property:{prop.id}",
            {"name": prop.name},
        )


def _not_archived(prop: Property) -> None:
    if prop.archived_at is not None:
        raise Invalid(f"{prop.name} is archived: restore it first.")


async def _label_taken(
    s: AsyncSession, prop: Property, label: str, other_than: Any = None
) -> None:
    stmt = select(Unit).where(
        Unit.tenant_id == prop.tenant_id,
        Unit.property_id == prop.id,
        func.lower(col(Unit.label)) == label.lower(),
    )
    if other_than is not None:
        stmt = stmt.where(Unit.id != other_than)
    clash = (await s.exec(stmt)).first()
    if clash is not None:
        archived = " (archived: restore it instead)" if clash.archived_at else ""
        raise Conflict(f"{prop.name} already has a unit {clash.label}{archived}.")


async def add_unit(actor: Actor, property_id: uuid.UUID, label: str) -> uuid.UUID:
    require_admin(actor, "add units")
    label = check_label(label)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        _not_archived(prop)
        await _label_taken(s, prop, label)
        unit = Unit(tenant_id=tid, property_id=prop.id, label=label)
        s.add(unit)
        await s.flush()
        audit.record(
            s,
            tid,
            actor.ref,
            "unit.created",
            f"unit:{unit.id}",
            {"property": prop.name, "label": label},
        )
        return unit.id


async def rename_unit(actor: Actor, unit_id: uuid.UUID, label: str) -> None:
    require_admin(actor, "rename units")
    label = check_label(label)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        unit = await access_unit(s, actor, unit_id)
        prop = await access_property(s, actor, unit.property_id)
        _not_archived(prop)
        if unit.label == label:
            return
        await _label_taken(s, prop, label, other_than=unit.id)
        before, unit.label = unit.label, label
        s.add(unit)
        audit.record(
            s,
            tid,
            actor.ref,
            "unit.renamed",
            f"unit:{unit.id}",
            {"property": prop.name, "from": before, "to": label},
        )


async def set_unit_archived(actor: Actor, unit_id: uuid.UUID, archived: bool) -> None:
    require_admin(actor, "archive units")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        unit = await access_unit(s, actor, unit_id)
        prop = await access_property(s, actor, unit.property_id)
        _not_archived(prop)
        if (unit.archived_at is not None) == archived:
            return
        if archived:
            living = await _active_residents(s, tid, User.unit_id == unit.id)
            if living:
                raise _still_living(living, f"{prop.name} {unit.label}")
        unit.archived_at = utcnow() if archived else None
        s.add(unit)
        audit.record(
            s,
            tid,
            actor.ref,
            "unit.archived" if archived else "unit.restored",
            f"unit:{unit.id}",
            {"property": prop.name, "label": unit.label},
        )
