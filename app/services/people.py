"""People and teams in the admin console: search, sort and paginate users (one
page at a time, also at 10,000 users), change roles and team memberships with
guards, create and edit teams, and where residents live.

Guards: the organisation keeps at least one active admin; residents are never on
staff teams (teams are staff groups: the assistant addresses them as staff); a
team's lead is one of its members. Every change is audited.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.core.db import tenant_session
from app.domain.accounts import check_name, check_role
from app.domain.actor import Actor, require_admin
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.models import (
    Property,
    RefreshToken,
    Team,
    TeamMember,
    Unit,
    User,
    utcnow,
)
from app.domain.roles import APPROVER_ROLES, Role
from app.services import audit
from app.services.access import access_user
from app.services.paging import like_pattern, page_count

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
SORTS = {
    "name": col(User.name),
    "email": col(User.email),
    "role": col(User.role),
    "created": col(User.created_at),
}
RESIDENTS_NO_TEAMS = "Residents cannot be on staff teams."


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    email: str
    role: str
    disabled: bool
    teams: list[str]
    property: str
    unit: str


@dataclass(frozen=True)
class PeoplePage:
    people: list[Person]
    total: int
    page: int
    pages: int


async def search_people(
    actor: Actor,
    query: str = "",
    role: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PeoplePage:
    """One page of the tenant's users. Sorted by an indexed column with the id as
    tie-break, and LIMIT/OFFSET in SQL: only one page of rows leaves the server."""
    require_admin(actor, "see people")
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    async with tenant_session(actor.tenant_id) as s:
        where = _where(actor.tenant_id, query, role)
        total = int((await s.exec(select(func.count()).where(*where))).one())
        pages = page_count(total, size)
        page = max(1, min(page, pages))
        stmt = page_query(actor.tenant_id, query, role, sort, descending)
        users = (await s.exec(stmt.limit(size).offset((page - 1) * size))).all()
        people = await _describe(s, actor.tenant_id, users)
    return PeoplePage(people, total, page, pages)


def _where(tenant_id: uuid.UUID, query: str, role: str) -> list[Any]:
    where: list[Any] = [col(User.tenant_id) == tenant_id]
    if query.strip():
        pattern = like_pattern(query)
        where.append(
            or_(
                func.lower(col(User.name)).like(pattern),
                func.lower(col(User.email)).like(pattern),
            )
        )
    if role:
        where.append(col(User.role) == check_role(role))
    return where


def page_query(
    tenant_id: uuid.UUID, query: str, role: str, sort: str, descending: bool
) -> SelectOfScalar[User]:
    """The people query before LIMIT/OFFSET; the id breaks ties so pages never
    overlap (and, by name, ix_users_name serves the order)."""
    order = SORTS.get(sort)
    if order is None:
        raise Invalid("Unknown sort.")
    ordering = (
        [order.desc(), col(User.id).desc()] if descending else [order, col(User.id)]
    )
    return select(User).where(*_where(tenant_id, query, role)).order_by(*ordering)


async def _describe(
    s: AsyncSession, tenant_id: uuid.UUID, users: Sequence[User]
) -> list[Person]:
    ids = [u.id for u in users]
    teams: dict[uuid.UUID, list[str]] = {}
    if ids:
        links = await s.exec(
            select(TeamMember.user_id, Team.name)
            .join(
                Team,
                (col(Team.id) == col(TeamMember.team_id))
                & (col(Team.tenant_id) == col(TeamMember.tenant_id)),
            )
            .where(TeamMember.tenant_id == tenant_id, col(TeamMember.user_id).in_(ids))
        )
        for user_id, team in links.all():
            teams.setdefault(user_id, []).append(team)
    prop_ids = {u.property_id for u in users if u.property_id}
    unit_ids = {u.unit_id for u in users if u.unit_id}
    props = (
        dict(
            (
                await s.exec(
                    select(Property.id, Property.name).where(
                        Property.tenant_id == tenant_id,
                        col(Property.id).in_(prop_ids),
                    )
                )
            ).all()
        )
        if prop_ids
        else {}
    )
    units = (
        dict(
            (
                await s.exec(
                    select(Unit.id, Unit.label).where(
                        Unit.tenant_id == tenant_id, col(Unit.id).in_(unit_ids)
                    )
                )
            ).all()
        )
        if unit_ids
        else {}
    )
    return [
        Person(
            u.id,
            u.name,
            u.email,
            u.role,
            u.disabled,
            sorted(teams.get(u.id, [])),
            props.get(u.property_id, "") if u.property_id else "",
            units.get(u.unit_id, "") if u.unit_id else "",
        )
        for u in users
    ]


async def _active_admins(s: AsyncSession, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The active admins, locked: two admins demoting each other at once cannot
    both pass the last-admin check."""
    rows = await s.exec(
        select(User.id)
        .where(
            User.tenant_id == tenant_id,
            User.role == Role.admin.value,
            col(User.disabled).is_(False),
        )
        .with_for_update()
    )
    return list(rows.all())


async def set_role(actor: Actor, user_id: uuid.UUID, role: str) -> Person:
    """Change a user's role. Never the last active admin's; a resident leaves no
    staff team behind (refused while on one); a change ends the user's sessions
    at their next refresh (the access token carries the role)."""
    require_admin(actor, "change roles")
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, user_id)
        await _set_role(s, actor, user, role)
        return (await _describe(s, actor.tenant_id, [user]))[0]


async def set_teams(
    actor: Actor, user_id: uuid.UUID, team_ids: Sequence[uuid.UUID]
) -> Person:
    """The teams a user is on, replaced as a whole (leads keep their flag)."""
    require_admin(actor, "change teams")
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, user_id)
        await _set_teams(s, actor, user, team_ids)
        return (await _describe(s, actor.tenant_id, [user]))[0]


async def set_residence(
    actor: Actor,
    user_id: uuid.UUID,
    property_id: uuid.UUID | None,
    unit_id: uuid.UUID | None,
) -> Person:
    """Where a resident lives: a property and one of its units (or nowhere)."""
    require_admin(actor, "change where residents live")
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, user_id)
        await _set_residence(s, actor, user, property_id, unit_id)
        return (await _describe(s, actor.tenant_id, [user]))[0]


async def update_person(
    actor: Actor,
    user_id: uuid.UUID,
    *,
    role: str,
    team_ids: Sequence[uuid.UUID],
    property_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
) -> Person:
    """The console's person dialog in one transaction: all of it or nothing. A
    resident leaves their teams and gets a residence; staff get their teams."""
    require_admin(actor, "change people")
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, user_id)
        if check_role(role) == Role.resident.value:
            await _set_teams(s, actor, user, [])
            await _set_role(s, actor, user, role)
            await _set_residence(s, actor, user, property_id, unit_id)
        else:
            await _set_role(s, actor, user, role)
            await _set_teams(s, actor, user, team_ids)
        return (await _describe(s, actor.tenant_id, [user]))[0]


async def _set_role(s: AsyncSession, actor: Actor, user: User, role: str) -> None:
    role = check_role(role)
    admins = await _active_admins(s, actor.tenant_id)
    if user.role == role:
        return
    if user.role == Role.admin.value and admins == [user.id]:
        raise Conflict("The organisation needs at least one admin.")
    if role == Role.resident.value and await _team_ids(s, actor.tenant_id, user):
        raise Conflict(
            "Residents cannot be on staff teams: remove them from their teams first."
        )
    before = user.role
    user.role = role
    if role != Role.resident.value:
        user.property_id = user.unit_id = None
    s.add(user)
    await s.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.tenant_id) == actor.tenant_id,
            col(RefreshToken.user_id) == user.id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    audit.record(
        s,
        actor.tenant_id,
        actor.ref,
        "user.role_changed",
        f"user:{user.id}",
        {"from": before, "to": role},
    )
    await s.flush()


async def _team_ids(
    s: AsyncSession, tenant_id: uuid.UUID, user: User
) -> list[uuid.UUID]:
    rows = await s.exec(
        select(TeamMember.team_id).where(
            TeamMember.tenant_id == tenant_id, TeamMember.user_id == user.id
        )
    )
    return list(rows.all())


async def _teams(
    s: AsyncSession, tenant_id: uuid.UUID, team_ids: Sequence[uuid.UUID]
) -> list[Team]:
    wanted = set(team_ids)
    found = (
        (
            await s.exec(
                select(Team).where(
                    Team.tenant_id == tenant_id, col(Team.id).in_(wanted)
                )
            )
        ).all()
        if wanted
        else []
    )
    if len(found) != len(wanted):
        raise NotFound("No such team.")
    return list(found)


async def _set_teams(
    s: AsyncSession, actor: Actor, user: User, team_ids: Sequence[uuid.UUID]
) -> None:
    teams = await _teams(s, actor.tenant_id, team_ids)
    if teams and user.role == Role.resident.value:
        raise Conflict(RESIDENTS_NO_TEAMS)
    wanted = {t.id for t in teams}
    current = set(await _team_ids(s, actor.tenant_id, user))
    if current - wanted:
        await s.exec(
            delete(TeamMember).where(
                col(TeamMember.tenant_id) == actor.tenant_id,
                col(TeamMember.user_id) == user.id,
                col(TeamMember.team_id).in_(current - wanted),
            )
        )
    for team_id in wanted - current:
        s.add(TeamMember(tenant_id=actor.tenant_id, team_id=team_id, user_id=user.id))
    if wanted != current:
        audit.record(
            s,
            actor.tenant_id,
            actor.ref,
            "user.teams_changed",
            f"user:{user.id}",
            {"teams": sorted(t.name for t in teams)},
        )
    await s.flush()


async def _set_residence(
    s: AsyncSession,
    actor: Actor,
    user: User,
    property_id: uuid.UUID | None,
    unit_id: uuid.UUID | None,
) -> None:
    if user.role != Role.resident.value:
        raise Invalid("Only residents live at a property.")
    if unit_id is not None and property_id is None:
        raise Invalid("Choose the property as well as the unit.")
    prop = unit = None
    if property_id is not None:
        prop = await s.get(Property, (actor.tenant_id, property_id))
        if prop is None:
            raise NotFound("No such property.")
    if unit_id is not None:
        unit = await s.get(Unit, (actor.tenant_id, unit_id))
        if unit is None or unit.property_id != property_id:
            raise NotFound("No such unit at this property.")
    if (user.property_id, user.unit_id) == (property_id, unit_id):
        return
    if (prop is not None and prop.archived_at) or (
        unit is not None and unit.archived_at
    ):
        raise Invalid("That place is archived: nobody can move in.")
    user.property_id, user.unit_id = property_id, unit_id
    s.add(user)
    audit.record(
        s,
        actor.tenant_id,
        actor.ref,
        "user.residence_changed",
        f"user:{user.id}",
        {"property_id": str(property_id or ""), "unit_id": str(unit_id or "")},
    )
    await s.flush()


# ------------------------------------------------------------------ teams


@dataclass(frozen=True)
class TeamView:
    id: uuid.UUID
    name: str
    slug: str
    members: list[tuple[uuid.UUID, str]]
    lead: uuid.UUID | None


async def list_teams(actor: Actor) -> list[TeamView]:
    require_admin(actor, "see teams")
    async with tenant_session(actor.tenant_id) as s:
        teams = (
            await s.exec(
                select(Team)
                .where(Team.tenant_id == actor.tenant_id)
                .order_by(col(Team.name))
            )
        ).all()
        rows = (
            await s.exec(
                select(TeamMember.team_id, User.id, User.name, TeamMember.is_lead)
                .join(
                    User,
                    (col(User.id) == col(TeamMember.user_id))
                    & (col(User.tenant_id) == col(TeamMember.tenant_id)),
                )
                .where(TeamMember.tenant_id == actor.tenant_id)
                .order_by(col(User.name))
            )
        ).all()
    members: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    leads: dict[uuid.UUID, uuid.UUID] = {}
    for team_id, uid, name, is_lead in rows:
        members.setdefault(team_id, []).append((uid, name))
        if is_lead:
            leads[team_id] = uid
    return [
        TeamView(t.id, t.name, t.slug, members.get(t.id, []), leads.get(t.id))
        for t in teams
    ]


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63]
    if not slug:
        raise Invalid("The team name needs a letter or digit.")
    return slug


async def save_team(
    actor: Actor,
    *,
    team_id: uuid.UUID | None,
    name: str,
    member_ids: Sequence[uuid.UUID],
    lead_id: uuid.UUID | None,
) -> uuid.UUID:
    """Create (team_id None) or edit a team: its name, members and lead."""
    require_admin(actor, "manage teams")
    name = check_name(name)
    wanted = set(member_ids)
    if lead_id is not None and lead_id not in wanted:
        raise Invalid("The lead must be one of the team's members.")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        users = (
            (
                await s.exec(
                    select(User).where(User.tenant_id == tid, col(User.id).in_(wanted))
                )
            ).all()
            if wanted
            else []
        )
        if len(users) != len(wanted):
            raise NotFound("No such user.")
        if any(u.role == Role.resident.value for u in users):
            raise Conflict(RESIDENTS_NO_TEAMS)
        if team_id is None:
            slug = _slug(name)
            taken = (
                await s.exec(
                    select(Team.id).where(Team.tenant_id == tid, Team.slug == slug)
                )
            ).first()
            if taken is not None:
                raise Conflict("A team with this name already exists.")
            team = Team(tenant_id=tid, slug=slug, name=name)
            s.add(team)
            await s.flush()
            kind = "team.created"
        else:
            found = await s.get(Team, (tid, team_id))
            if found is None:
                raise NotFound("No such team.")
            team = found
            team.name = name
            s.add(team)
            await s.exec(
                delete(TeamMember).where(
                    col(TeamMember.tenant_id) == tid, col(TeamMember.team_id) == team.id
                )
            )
            kind = "team.updated"
        for u in users:
            s.add(
                TeamMember(
                    tenant_id=tid,
                    team_id=team.id,
                    user_id=u.id,
                    is_lead=u.id == lead_id,
                )
            )
        audit.record(
            s,
            tid,
            actor.ref,
            kind,
            f"team:{team.id}",
            {"name": name, "members": len(users), "lead": str(lead_id or "")},
        )
        return team.id


@dataclass(frozen=True)
class Place:
    id: uuid.UUID
    name: str
    units: list[tuple[uuid.UUID, str]]


async def list_places(actor: Actor) -> list[Place]:
    """Properties and their units, for the residence form (archived ones are no
    longer offered)."""
    require_admin(actor, "see properties")
    async with tenant_session(actor.tenant_id) as s:
        props = (
            await s.exec(
                select(Property)
                .where(
                    Property.tenant_id == actor.tenant_id,
                    col(Property.archived_at).is_(None),
                )
                .order_by(col(Property.name))
            )
        ).all()
        units = (
            await s.exec(
                select(Unit)
                .where(
                    Unit.tenant_id == actor.tenant_id, col(Unit.archived_at).is_(None)
                )
                .order_by(col(Unit.label))
            )
        ).all()
    by_prop: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for u in units:
        by_prop.setdefault(u.property_id, []).append((u.id, u.label))
    return [Place(p.id, p.name, by_prop.get(p.id, [])) for p in props]


@dataclass(frozen=True)
class PersonDetail:
    id: uuid.UUID
    role: str
    team_ids: list[uuid.UUID]
    property_id: uuid.UUID | None
    unit_id: uuid.UUID | None


async def people_by_id(actor: Actor, ids: Sequence[uuid.UUID]) -> list[PersonDetail]:
    """What the edit dialog starts from (unknown ids: NotFound)."""
    require_admin(actor, "see people")
    out = []
    async with tenant_session(actor.tenant_id) as s:
        for user_id in ids:
            user = await access_user(s, actor, user_id)
            out.append(
                PersonDetail(
                    user.id,
                    user.role,
                    await _team_ids(s, actor.tenant_id, user),
                    user.property_id,
                    user.unit_id,
                )
            )
    return out


STAFF_PAGE_SIZE = 20


@dataclass(frozen=True)
class StaffPage:
    """One page of the team form's member picker."""

    choices: list[tuple[uuid.UUID, str, str]]  # id, name, email
    total: int
    page: int
    pages: int


async def staff_page(
    actor: Actor, query: str = "", page: int = 1, page_size: int = STAFF_PAGE_SIZE
) -> StaffPage:
    """Who the team form offers: active staff (residents never), searched by name
    or email, one page at a time in name order (ix_users_name), so a tenant of any
    size is searchable and nothing is cut off."""
    require_admin(actor, "manage teams")
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    where = [
        *_where(actor.tenant_id, query, ""),
        col(User.role) != Role.resident.value,
        col(User.disabled).is_(False),
    ]
    async with tenant_session(actor.tenant_id) as s:
        total = int((await s.exec(select(func.count()).where(*where))).one())
        pages = page_count(total, size)
        page = max(1, min(page, pages))
        rows = (
            await s.exec(
                select(User.id, User.name, User.email)
                .where(*where)
                .order_by(col(User.name), col(User.id))
                .limit(size)
                .offset((page - 1) * size)
            )
        ).all()
    return StaffPage(list(rows), total, page, pages)


# ------------------------------------------------------------------ managers


@dataclass(frozen=True)
class TeamMemberView:
    name: str
    role: str
    lead: bool


@dataclass(frozen=True)
class MyTeam:
    id: uuid.UUID
    name: str
    members: list[TeamMemberView]


async def my_teams(actor: Actor) -> list[MyTeam]:
    """The teams the caller is on, with their members (read-only): what a manager
    sees of people in the console. Disabled accounts are left out."""
    if actor.role not in APPROVER_ROLES:
        raise Forbidden("Only managers and admins see their teams here.")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        mine = select(TeamMember.team_id).where(
            TeamMember.tenant_id == tid, TeamMember.user_id == actor.user_id
        )
        teams = (
            await s.exec(
                select(Team)
                .where(Team.tenant_id == tid, col(Team.id).in_(mine))
                .order_by(col(Team.name))
            )
        ).all()
        rows = (
            await s.exec(
                select(TeamMember.team_id, User.name, User.role, TeamMember.is_lead)
                .join(
                    User,
                    (col(User.id) == col(TeamMember.user_id))
                    & (col(User.tenant_id) == col(TeamMember.tenant_id)),
                )
                .where(
                    TeamMember.tenant_id == tid,
                    col(TeamMember.team_id).in_(mine),
                    col(User.disabled).is_(False),
                )
                .order_by(col(TeamMember.is_lead).desc(), col(User.name))
            )
        ).all()
    members: dict[uuid.UUID, list[TeamMemberView]] = {}
    for team_id, name, role, lead in rows:
        members.setdefault(team_id, []).append(TeamMemberView(name, role, lead))
    return [MyTeam(t.id, t.name, members.get(t.id, [])) for t in teams]
