"""People and teams in the console, on real PostgreSQL: search, sort and pages
(also with 10,000 users: the page query walks an index under a LIMIT), role and
team changes with their guards, teams with members and a lead, residences."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from app.core.db import platform_session, tenant_session
from app.domain.actor import Actor
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.models import AuditEvent, RefreshToken, Team, TeamMember, Tenant, User
from app.services import people
from app.services.audit_log import AuditFilter, list_audit
from tests.conftest import Demo


def actor_of(user: Any) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)


@pytest.fixture
async def scratch_user(demo: Demo) -> AsyncIterator[Any]:
    """A throwaway Maple Court employee (demo people stay as seeded)."""
    tid = demo.tenant("maple-court").id
    tag = uuid.uuid4().hex[:8]
    async with tenant_session(tid) as s:
        user = User(
            tenant_id=tid,
            handle=f"t-{tag}",
            email=f"t-{tag}@maple-court.example",
            name=f"Test {tag}",
            role="employee",
            password_hash="x",
        )
        s.add(user)
    yield user
    async with tenant_session(tid) as s:
        row = await s.get(User, (tid, user.id))
        if row is not None:
            await s.delete(row)


async def test_search_sort_and_pages(demo: Demo) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    everyone = await people.search_people(admin, page_size=100)
    names = [p.name for p in everyone.people]
    assert names == sorted(names) and everyone.total == len(names)
    first = await people.search_people(admin, page_size=3)
    second = await people.search_people(admin, page=2, page_size=3)
    assert [p.name for p in first.people + second.people] == names[:6]
    assert first.pages == -(-everyone.total // 3)
    found = await people.search_people(admin, query="CARTER")
    [ben] = found.people
    assert (ben.role, ben.property, ben.unit) == ("resident", "Maple Court", "4B")
    assert (await people.search_people(admin, query="%")).total == 0  # literal
    residents = await people.search_people(admin, role="resident")
    assert {p.role for p in residents.people} == {"resident"}
    by_email = await people.search_people(admin, sort="email", descending=True)
    emails = [p.email for p in by_email.people]
    assert emails == sorted(emails, reverse=True)
    [omar] = (await people.search_people(admin, query="omar")).people
    assert omar.teams == ["Maintenance"]
    with pytest.raises(Invalid):
        await people.search_people(admin, sort="password_hash")
    with pytest.raises(Forbidden):
        await people.search_people(actor_of(demo.user("maple-court", "dana")))
    other = actor_of(demo.user("riverside-lofts", "admin"))
    assert (await people.search_people(other, query="maple-court")).total == 0


@pytest.fixture
async def big_tenant(demo: Demo, owner_engine: Any) -> AsyncIterator[Actor]:
    """A tenant with 10,000 users (and its admin), statistics up to date."""
    async with platform_session() as ps:
        tenant = Tenant(slug=f"big-{uuid.uuid4().hex[:8]}", name="Big Co")
        ps.add(tenant)
    async with tenant_session(tenant.id) as s:
        await s.execute(
            text(
                "INSERT INTO users (tenant_id, id, handle, email, name, role, "
                "password_hash, disabled, created_at) "
                "SELECT :t, gen_random_uuid(), 'u' || i, 'u' || i || '@big.example', "
                "md5(i::text), CASE WHEN i % 10 = 0 THEN 'resident' ELSE 'employee' "
                "END, 'x', false, now() FROM generate_series(1, 10000) i"
            ),
            {"t": tenant.id},
        )
        admin = User(
            tenant_id=tenant.id,
            handle="admin",
            email="admin@big.example",
            name="Big Admin",
            role="admin",
            password_hash="x",
        )
        s.add(admin)
    with owner_engine.begin() as conn:
        conn.execute(text("ANALYZE users"))
    yield Actor(tenant.id, admin.id, "admin")
    with owner_engine.begin() as conn:
        for table in ("audit_events", "team_members", "teams", "users"):
            conn.execute(
                text(f"DELETE FROM {table} WHERE tenant_id = :t"), {"t": tenant.id}
            )
        conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": tenant.id})


async def test_ten_thousand_users_one_page_at_a_time(
    big_tenant: Actor, owner_engine: Any
) -> None:
    admin = big_tenant
    began = time.perf_counter()
    page = await people.search_people(admin)
    middle = await people.search_people(admin, page=200)
    found = await people.search_people(admin, query="u7777@")
    elapsed = time.perf_counter() - began
    assert page.total == 10_001 and page.pages == 401 and len(page.people) == 25
    assert len(middle.people) == 25 and middle.page == 200
    assert [p.email for p in found.people] == ["u7777@big.example"]
    assert elapsed < 2.0, elapsed  # three pages with counts, on a shared machine

    # The plan: an index walk in name order under a LIMIT, not a sort of 10,000.
    stmt = people.page_query(admin.tenant_id, "", "", "name", False).limit(25)
    sql = stmt.compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    with owner_engine.begin() as conn:
        plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
    assert "Limit" in plan and "ix_users_name" in plan, plan
    assert "Sort" not in plan, plan


async def test_role_changes_keep_an_admin_and_end_sessions(
    demo: Demo, scratch_user: Any
) -> None:
    admin_user = demo.user("maple-court", "admin")
    admin = actor_of(admin_user)
    with pytest.raises(Conflict, match="at least one admin"):
        await people.set_role(admin, admin_user.id, "manager")
    promoted = await people.set_role(admin, scratch_user.id, "admin")
    assert promoted.role == "admin"
    async with tenant_session(admin.tenant_id) as s:
        s.add(
            RefreshToken(
                tenant_id=admin.tenant_id,
                user_id=scratch_user.id,
                family_id=uuid.uuid4(),
                token_hash=uuid.uuid4().hex,
                expires_at=admin_user.created_at.replace(year=2100),
            )
        )
    # Two admins now: either may step down, and the other stays.
    assert (await people.set_role(admin, scratch_user.id, "manager")).role == "manager"
    async with tenant_session(admin.tenant_id) as s:
        token = (
            await s.exec(
                select(RefreshToken).where(RefreshToken.user_id == scratch_user.id)
            )
        ).one()
        kinds = (
            await s.exec(
                select(AuditEvent.data).where(
                    AuditEvent.kind == "user.role_changed",
                    AuditEvent.subject == f"user:{scratch_user.id}",
                )
            )
        ).all()
    assert token.revoked_at is not None
    assert {"from": "admin", "to": "manager"} in kinds
    with pytest.raises(Invalid):
        await people.set_role(admin, scratch_user.id, "owner")
    with pytest.raises(Forbidden):
        await people.set_role(
            actor_of(demo.user("maple-court", "dana")), scratch_user.id, "admin"
        )
    other = actor_of(demo.user("riverside-lofts", "admin"))
    with pytest.raises(NotFound):
        await people.set_role(other, scratch_user.id, "resident")


async def test_residents_are_never_on_staff_teams(
    demo: Demo, scratch_user: Any
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    maintenance = demo.team("maple-court", "maintenance")
    person = await people.set_teams(admin, scratch_user.id, [maintenance.id])
    assert person.teams == ["Maintenance"]
    with pytest.raises(Conflict, match="Residents"):
        await people.set_role(admin, scratch_user.id, "resident")
    assert (await people.set_teams(admin, scratch_user.id, [])).teams == []
    assert (
        await people.set_role(admin, scratch_user.id, "resident")
    ).role == "resident"
    with pytest.raises(Conflict, match="Residents"):
        await people.set_teams(admin, scratch_user.id, [maintenance.id])
    ben = demo.user("maple-court", "ben")
    with pytest.raises(Conflict, match="Residents"):
        await people.save_team(
            admin,
            team_id=maintenance.id,
            name="Maintenance",
            member_ids=[ben.id],
            lead_id=None,
        )
    river_team = demo.team("riverside-lofts", "maintenance")
    with pytest.raises(NotFound):
        await people.set_teams(
            admin, demo.user("maple-court", "omar").id, [river_team.id]
        )


async def test_residence_is_a_property_and_one_of_its_units(
    demo: Demo, scratch_user: Any
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    places = {p.name: p for p in await people.list_places(admin)}
    maple, elm = places["Maple Court"], places["Elm House"]
    with pytest.raises(Invalid, match="Only residents"):
        await people.set_residence(admin, scratch_user.id, maple.id, None)
    await people.set_role(admin, scratch_user.id, "resident")
    unit_id, label = maple.units[0]
    person = await people.set_residence(admin, scratch_user.id, maple.id, unit_id)
    assert (person.property, person.unit) == ("Maple Court", label)
    with pytest.raises(NotFound):
        await people.set_residence(admin, scratch_user.id, elm.id, unit_id)
    river = demo.property("riverside-lofts", "riverside-1")
    with pytest.raises(NotFound):
        await people.set_residence(admin, scratch_user.id, river.id, None)


async def test_teams_with_members_and_a_lead(demo: Demo, scratch_user: Any) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    omar = demo.user("maple-court", "omar")
    name = f"Night shift {uuid.uuid4().hex[:6]}"
    team_id = await people.save_team(
        admin,
        team_id=None,
        name=name,
        member_ids=[omar.id, scratch_user.id],
        lead_id=scratch_user.id,
    )
    [team] = [t for t in await people.list_teams(admin) if t.id == team_id]
    assert {n for _, n in team.members} == {omar.name, scratch_user.name}
    assert team.lead == scratch_user.id
    with pytest.raises(Conflict):
        await people.save_team(
            admin, team_id=None, name=name, member_ids=[], lead_id=None
        )
    with pytest.raises(Invalid, match="lead"):
        await people.save_team(
            admin,
            team_id=team_id,
            name=name,
            member_ids=[omar.id],
            lead_id=scratch_user.id,
        )
    await people.save_team(
        admin, team_id=team_id, name=name + " B", member_ids=[omar.id], lead_id=omar.id
    )
    [team] = [t for t in await people.list_teams(admin) if t.id == team_id]
    assert team.name == name + " B" and team.members == [(omar.id, omar.name)]
    assert team.lead == omar.id
    log = await list_audit(admin, AuditFilter(), ZoneInfo("UTC"), page_size=200)
    subjects = {(e.kind, e.subject) for e in log.entries}
    assert ("team.created", f"team {name} B") in subjects  # ids → today's name
    other = actor_of(demo.user("riverside-lofts", "admin"))
    with pytest.raises(NotFound):
        await people.save_team(
            other, team_id=team_id, name="x", member_ids=[], lead_id=None
        )
    with pytest.raises(NotFound):  # another tenant's user as a member
        await people.save_team(
            admin, team_id=team_id, name=name, member_ids=[other.user_id], lead_id=None
        )
    async with tenant_session(admin.tenant_id) as s:
        await s.exec(delete(TeamMember).where(col(TeamMember.team_id) == team_id))
        await s.delete(await s.get(Team, (admin.tenant_id, team_id)))


async def test_the_member_picker_reaches_every_staff_member(big_tenant: Actor) -> None:
    """No cap: 9,001 active staff, every page reachable, any one found by search,
    residents never offered; a team of 600 saves whole."""
    admin = big_tenant
    first = await people.staff_page(admin)
    assert first.total == 9_001 and first.pages == 451 and len(first.choices) == 20
    last = await people.staff_page(admin, page=451)
    assert len(last.choices) == 1 and last.page == 451
    assert (await people.staff_page(admin, page=10_000)).page == 451
    [far] = (await people.staff_page(admin, query="u9999@")).choices
    assert far[2] == "u9999@big.example"
    assert (await people.staff_page(admin, query="u10000@")).total == 0  # resident
    pages = [await people.staff_page(admin, query="u1", page=p) for p in (1, 2)]
    ids = [c[0] for p in pages for c in p.choices]
    assert len(ids) == len(set(ids)) == 40  # pages never overlap

    members = [
        c[0]
        for p in range(1, 31)
        for c in (await people.staff_page(admin, page=p)).choices
    ]
    assert len(members) == 600
    team_id = await people.save_team(
        admin, team_id=None, name="Everyone", member_ids=members, lead_id=members[-1]
    )
    [team] = [t for t in await people.list_teams(admin) if t.id == team_id]
    assert len(team.members) == 600 and team.lead == members[-1]


async def test_only_admins_page_through_staff(demo: Demo) -> None:
    with pytest.raises(Forbidden):
        await people.staff_page(actor_of(demo.user("maple-court", "dana")))
    mine = await people.staff_page(actor_of(demo.user("maple-court", "admin")))
    emails = {c[2] for c in mine.choices}
    assert emails and all(e.endswith("@maple-court.example") for e in emails)
