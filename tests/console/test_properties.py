"""Properties in the console, on real PostgreSQL: list and search, a property's
units and residents, add / edit / archive / restore with their guards, recurring
services (team or vendor, recurrence rule), the service log newest first, and
archived places kept away from the assistant. Every change is audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from agents.directory import load_directory
from agents.prompt import context_block
from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.models import AuditEvent, ServiceLog, utcnow
from app.services import people
from app.services import properties as props
from app.services import recurring_services as services
from app.services.audit_log import AuditFilter, list_audit
from app.services.recurring_services import ServiceInput
from tests.conftest import Demo

pytestmark = pytest.mark.usefixtures("clean_db")


def actor_of(user: Any) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)


@pytest.fixture
async def made(owner_engine: Any) -> AsyncIterator[list[uuid.UUID]]:
    """Ids of properties a test creates; deleted afterwards (demo places stay)."""
    ids: list[uuid.UUID] = []
    yield ids
    with owner_engine.begin() as conn:
        for pid in ids:
            conn.execute(
                text("DELETE FROM service_logs WHERE property_id = :p"), {"p": pid}
            )
            conn.execute(text("DELETE FROM properties WHERE id = :p"), {"p": pid})


async def _new(admin: Actor, made: list[uuid.UUID], name: str = "") -> uuid.UUID:
    name = name or f"Birch House {uuid.uuid4().hex[:6]}"
    pid = await props.create_property(admin, name, "7 Birch Lane")
    made.append(pid)
    return pid


async def _kinds(actor: Actor, subject: str) -> list[str]:
    async with tenant_session(actor.tenant_id) as s:
        rows = await s.exec(
            select(AuditEvent)
            .where(AuditEvent.subject == subject)
            .order_by(AuditEvent.created_at)  # type: ignore[arg-type]
        )
        return [e.kind for e in rows.all()]


async def test_add_edit_archive_and_restore_a_property(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    tag = uuid.uuid4().hex[:6]
    pid = await _new(admin, made, f"Birch House {tag}")
    await props.update_property(admin, pid, f"Birch Court {tag}", "9 Birch Lane")
    found = await props.list_properties(admin, query=f"birch court {tag}")
    [row] = found.properties
    assert (row.id, row.name, row.address, row.archived) == (
        pid,
        f"Birch Court {tag}",
        "9 Birch Lane",
        False,
    )
    assert (await props.list_properties(admin, query="9 birch lane")).total >= 1

    await props.set_property_archived(admin, pid, True)
    assert (await props.list_properties(admin, query=tag)).total == 0
    [archived] = (
        await props.list_properties(admin, query=tag, archived=True)
    ).properties
    assert archived.archived
    with pytest.raises(Invalid, match="archived: restore it first"):
        await props.add_unit(admin, pid, "1")
    await props.set_property_archived(admin, pid, False)
    assert (await props.list_properties(admin, query=tag)).total == 1
    assert await _kinds(admin, f"property:{pid}") == [
        "property.created",
        "property.updated",
        "property.archived",
        "property.restored",
    ]


async def test_bad_input_is_a_clear_message(demo: Demo, made: list[uuid.UUID]) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    with pytest.raises(Conflict, match="A property called Maple Court already exists"):
        await props.create_property(admin, "maple  court")
    pid = await _new(admin, made, "Birch Hall")
    with pytest.raises(Conflict, match="A property called Birch Hall already"):
        await props.create_property(admin, "Birch-Hall!")  # the same slug
    with pytest.raises(Invalid, match="needs 1-200 characters"):
        await props.create_property(admin, "   ")
    with pytest.raises(Invalid, match="letter or digit"):
        await props.create_property(admin, "***")
    with pytest.raises(Invalid, match="at most 500"):
        await props.create_property(admin, "Long Street", "x" * 501)
    with pytest.raises(Conflict, match="Elm House already exists"):
        await props.update_property(admin, pid, "ELM HOUSE", "")
    unit = await props.add_unit(admin, pid, "1A")
    with pytest.raises(Conflict, match=r"already has a unit 1A\."):
        await props.add_unit(admin, pid, "1a")
    other = await props.add_unit(admin, pid, "2B")
    with pytest.raises(Conflict, match="already has a unit 1A"):
        await props.rename_unit(admin, other, "1A")
    with pytest.raises(Invalid, match="1-20 characters"):
        await props.add_unit(admin, pid, "x" * 21)
    await props.set_unit_archived(admin, unit, True)
    with pytest.raises(Conflict, match=r"archived: restore it instead"):
        await props.add_unit(admin, pid, "1A")
    await props.rename_unit(admin, other, "2C")
    detail = await props.property_detail(admin, pid)
    assert [(u.label, u.archived) for u in detail.units] == [
        ("2C", False),
        ("1A", True),
    ]
    assert await _kinds(admin, f"unit:{other}") == ["unit.created", "unit.renamed"]
    # The console's audit log names what changed instead of showing ids.
    log = await list_audit(admin, AuditFilter(), ZoneInfo("UTC"), page_size=200)
    subjects = {(e.kind, e.subject) for e in log.entries}
    assert ("unit.renamed", "unit 2C") in subjects
    assert ("property.created", "property Birch Hall") in subjects


async def test_a_property_shows_its_units_and_residents(demo: Demo) -> None:
    dana = actor_of(demo.user("maple-court", "dana"))  # managers read
    maple = demo.property("maple-court", "maple-court-12")
    detail = await props.property_detail(dana, maple.id)
    by_unit = {u.label: [r.name for r in u.residents] for u in detail.units}
    assert by_unit == {
        "1A": [],
        "2A": ["Alice Moreau"],
        "3C": [],
        "4B": ["Ben Carter"],
    }
    page = await props.list_properties(dana)
    row = next(p for p in page.properties if p.id == maple.id)
    assert (row.units, row.residents, row.services) == (4, 2, 3)


async def test_archiving_waits_until_nobody_lives_there(demo: Demo) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    maple = demo.property("maple-court", "maple-court-12")
    with pytest.raises(Conflict, match="Alice Moreau, Ben Carter still live at"):
        await props.set_property_archived(admin, maple.id, True)
    detail = await props.property_detail(admin, maple.id)
    four_b = next(u for u in detail.units if u.label == "4B")
    with pytest.raises(Conflict, match="Ben Carter still lives at Maple Court 4B"):
        await props.set_unit_archived(admin, four_b.id, True)
    assert not (await props.property_detail(admin, maple.id)).archived
    assert await _kinds(admin, f"property:{maple.id}") == []


async def test_managers_read_and_only_admins_change(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    dana = actor_of(demo.user("maple-court", "dana"))
    pid = await _new(admin, made)
    assert (await props.property_detail(dana, pid)).id == pid
    assert await services.list_services(dana, pid) == []
    for change in (
        props.create_property(dana, "Dana House"),
        props.update_property(dana, pid, "Dana House", ""),
        props.set_property_archived(dana, pid, True),
        props.add_unit(dana, pid, "9"),
        services.save_service(dana, pid, None, ServiceInput("Windows")),
    ):
        with pytest.raises(Forbidden):
            await change
    assert (await props.property_detail(admin, pid)).units == []


async def test_recurring_services_add_edit_and_remove(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    cleaning = demo.team("maple-court", "cleaning")
    pid = await _new(admin, made)
    hall = await services.save_service(
        admin,
        pid,
        None,
        ServiceInput("Hallway cleaning", team_id=cleaning.id, weekday=4, time="10:00"),
    )
    bins = await services.save_service(
        admin,
        pid,
        None,
        ServiceInput("Bins", vendor="  Green  Waste Ltd ", month_day=15, time="7:30"),
    )
    listed = await services.list_services(admin, pid)
    assert [(v.name, v.team, v.vendor, v.when) for v in listed] == [
        ("Bins", "", "Green Waste Ltd", "every month on day 15 at 07:30"),
        ("Hallway cleaning", "Cleaning Crew", "", "every Friday at 10:00"),
    ]
    nxt = listed[1].next_at
    assert nxt is not None and nxt.weekday() == 4 and (nxt.hour, nxt.minute) == (10, 0)
    assert nxt - utcnow() <= timedelta(days=7)

    with pytest.raises(Conflict, match="already has a service called Bins"):
        await services.save_service(admin, pid, None, ServiceInput("bins"))
    with pytest.raises(Conflict, match="already has a service called Bins"):
        await services.save_service(admin, pid, hall, ServiceInput("BINS"))
    with pytest.raises(Invalid, match="not both"):
        await services.save_service(
            admin, pid, None, ServiceInput("X", team_id=cleaning.id, vendor="Acme")
        )
    for bad in (
        ServiceInput("X", time="25:00"),
        ServiceInput("X", weekday=7),
        ServiceInput("X", month_day=0),
    ):
        with pytest.raises(Invalid, match="HH:MM"):
            await services.save_service(admin, pid, None, bad)
    with pytest.raises(Invalid, match="1-200 characters"):
        await services.save_service(admin, pid, None, ServiceInput(" "))
    riverside_team = demo.team("riverside-lofts", "maintenance")
    with pytest.raises(NotFound):
        await services.save_service(
            admin, pid, None, ServiceInput("X", team_id=riverside_team.id)
        )

    await services.save_service(
        admin, pid, hall, ServiceInput("Hallway cleaning", vendor="Shiny Co", weekday=0)
    )
    await services.remove_service(admin, bins)
    [only] = await services.list_services(admin, pid)
    assert (only.vendor, only.team, only.when) == (
        "Shiny Co",
        "",
        "every Monday at 09:00",
    )
    with pytest.raises(NotFound):  # a removed service is not edited...
        await services.save_service(admin, pid, bins, ServiceInput("Bins"))
    # ...but adding it again brings it back (its log still points at it).
    again = await services.save_service(admin, pid, None, ServiceInput("Bins"))
    assert again == bins
    log = await list_audit(admin, AuditFilter(), ZoneInfo("UTC"), page_size=200)
    assert ("service.removed", "service Bins") in {
        (e.kind, e.subject) for e in log.entries
    }
    assert await _kinds(admin, f"service:{bins}") == [
        "service.created",
        "service.removed",
        "service.created",
    ]


async def test_service_log_newest_first_in_pages(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    grace = demo.user("maple-court", "grace")
    pid = await _new(admin, made)
    sid = await services.save_service(admin, pid, None, ServiceInput("Windows"))
    start = utcnow() - timedelta(days=30)
    async with tenant_session(admin.tenant_id) as s:
        for day in range(25):
            s.add(
                ServiceLog(
                    tenant_id=admin.tenant_id,
                    property_id=pid,
                    service_id=sid,
                    service_name="Windows",
                    note=f"round {day}",
                    performed_by=grace.id if day % 2 else None,
                    performed_at=start + timedelta(days=day),
                )
            )
    first = await services.service_log(admin, pid, page=1, page_size=10)
    assert (first.total, first.pages) == (25, 3)
    assert [e.note for e in first.entries[:2]] == ["round 24", "round 23"]
    assert [e.by for e in first.entries[:2]] == ["", "Grace Kim"]
    last = await services.service_log(admin, pid, page=9, page_size=10)
    assert last.page == 3 and [e.note for e in last.entries][-1] == "round 0"
    notes = [
        e.note
        for p in (1, 2, 3)
        for e in (await services.service_log(admin, pid, page=p, page_size=10)).entries
    ]
    assert notes == [f"round {d}" for d in range(24, -1, -1)]


async def test_archived_places_are_not_offered_to_the_assistant(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    omar = actor_of(demo.user("maple-court", "omar"))
    tag = uuid.uuid4().hex[:6]
    pid = await _new(admin, made, f"Oak Yard {tag}")
    await props.add_unit(admin, pid, "1")
    gone = await props.add_unit(admin, pid, "2")
    await services.save_service(
        admin, pid, None, ServiceInput("Gutters", vendor="Acme Roofs", weekday=2)
    )
    async with tenant_session(omar.tenant_id) as s:
        directory = await load_directory(s, omar)
    entry = next(p for p in directory.properties if p.id == pid)
    entry_ref = f"property:{entry.slug}"
    assert set(entry.units) == {"1", "2"}
    assert [(v.name, v.vendor) for v in entry.services] == [("Gutters", "Acme Roofs")]
    shown = next(
        p
        for p in context_block(directory, [], datetime(2026, 3, 2, 9))["properties"]
        if p["ref"] == entry_ref
    )
    assert shown["services"] == [
        {
            "name": "Gutters",
            "team": None,
            "when": "every Wednesday at 09:00",
            "vendor": "Acme Roofs",
        }
    ]

    await props.set_unit_archived(admin, gone, True)
    async with tenant_session(omar.tenant_id) as s:
        entry = next(
            p for p in (await load_directory(s, omar)).properties if p.id == pid
        )
    assert set(entry.units) == {"1"}
    places = await people.list_places(admin)
    assert [u for _, u in next(p for p in places if p.id == pid).units] == ["1"]

    await props.set_property_archived(admin, pid, True)
    async with tenant_session(omar.tenant_id) as s:
        directory = await load_directory(s, omar)
    assert pid not in {p.id for p in directory.properties}
    assert "maple-court-12" in {p.slug for p in directory.properties}


async def test_a_service_done_is_logged_by_hand(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    """Admins and managers record a recurring service done (late paperwork
    included), in the organisation's time zone; it shows first in the log, with
    who logged it, and is audited."""
    admin = actor_of(demo.user("maple-court", "admin"))
    dana = actor_of(demo.user("maple-court", "dana"))
    pid = await _new(admin, made)
    sid = await services.save_service(admin, pid, None, ServiceInput("Windows"))
    before = utcnow()
    now_entry = await services.log_performed(admin, sid, "  all floors  ")
    assert (now_entry.service, now_entry.note) == ("Windows", "all floors")
    assert before <= now_entry.at <= utcnow()
    # Late paperwork, written in Maple Court's time (London).
    london = ZoneInfo("Europe/London")
    local = (datetime.now(london) - timedelta(days=40)).replace(second=0, microsecond=0)
    late = await services.log_performed(
        dana, sid, "gutters", local.strftime("%Y-%m-%dT%H:%M")
    )
    assert late.at == local.astimezone(ZoneInfo("UTC"))
    log = await services.service_log(dana, pid)
    assert [(e.note, e.by) for e in log.entries] == [
        ("all floors", "Maple Admin"),
        ("gutters", "Dana Whitfield"),
    ]
    assert "service.logged" in await _kinds(admin, f"service:{sid}")


@pytest.mark.parametrize(
    ("note", "at", "message"),
    [
        ("", "tomorrow", "date and time"),
        ("", "2026-13-45T99:00", "date and time"),
        ("", "2999-01-01T09:00", "once it has been done"),
        ("", "2001-01-01T09:00", "over a year ago"),
        ("x" * 2001, "", "2000 characters"),
    ],
)
async def test_a_bad_service_entry_is_a_clear_message(
    demo: Demo, made: list[uuid.UUID], note: str, at: str, message: str
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    pid = await _new(admin, made)
    sid = await services.save_service(admin, pid, None, ServiceInput("Windows"))
    with pytest.raises(Invalid, match=message):
        await services.log_performed(admin, sid, note, at)
    assert (await services.service_log(admin, pid)).total == 0


async def test_no_entries_for_a_removed_service_or_an_archived_place(
    demo: Demo, made: list[uuid.UUID]
) -> None:
    admin = actor_of(demo.user("maple-court", "admin"))
    pid = await _new(admin, made)
    gone = await services.save_service(admin, pid, None, ServiceInput("Bins"))
    kept = await services.save_service(admin, pid, None, ServiceInput("Windows"))
    await services.remove_service(admin, gone)
    with pytest.raises(Invalid, match="no longer offered"):
        await services.log_performed(admin, gone)
    await props.set_property_archived(admin, pid, True)
    with pytest.raises(Invalid, match="no longer offered"):
        await services.log_performed(admin, kept)
    assert (await services.service_log(admin, pid)).total == 0


def test_a_local_time_is_read_in_the_organisations_zone() -> None:
    london = ZoneInfo("Europe/London")
    now = datetime(2026, 12, 1, 12, tzinfo=ZoneInfo("UTC"))
    utc = ZoneInfo("UTC")
    # GMT in March, BST in June; an explicit offset is kept as given.
    assert services._performed_at("2026-03-02T09:30", london, now) == datetime(
        2026, 3, 2, 9, 30, tzinfo=utc
    )
    assert services._performed_at("2026-06-02T09:30", london, now) == datetime(
        2026, 6, 2, 8, 30, tzinfo=utc
    )
    assert services._performed_at("2026-06-02T09:30+02:00", london, now) == (
        datetime(2026, 6, 2, 7, 30, tzinfo=utc)
    )
    assert services._performed_at("", london, now) == now
    # A clock a few minutes ahead is not the future.
    assert services._performed_at("2026-12-01T12:03", london, now)
