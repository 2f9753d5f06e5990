"""Properties, units and recurring services across tenants and roles: another
tenant's ids are "not found" through every read and change (and nothing changes),
lists never show them, and employees and residents are refused everything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import Forbidden, NotFound
from app.domain.models import PropertyService, ServiceLog, Unit
from app.services import properties as props
from app.services import recurring_services as services
from app.services.recurring_services import ServiceInput
from tests.conftest import Demo

pytestmark = [pytest.mark.isolation, pytest.mark.usefixtures("clean_db")]

Call = Callable[[Actor], Awaitable[Any]]


def actor_of(user: Any) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)


async def _riverside(demo: Demo) -> dict[str, Any]:
    """Riverside Lofts' property, one of its units and one of its services."""
    prop = demo.property("riverside-lofts", "riverside-1")
    async with tenant_session(prop.tenant_id) as s:
        unit = (await s.exec(select(Unit).where(Unit.property_id == prop.id))).first()
        svc = (
            await s.exec(
                select(PropertyService).where(PropertyService.property_id == prop.id)
            )
        ).first()
    assert unit is not None and svc is not None
    return {"property": prop, "unit": unit, "service": svc}


def _every_call(theirs: dict[str, Any]) -> dict[str, Call]:
    """Every service function of the page, aimed at `theirs`' ids."""
    pid = theirs["property"].id
    uid = theirs["unit"].id
    sid = theirs["service"].id
    return {
        "property_detail": lambda a: props.property_detail(a, pid),
        "update_property": lambda a: props.update_property(a, pid, "Mine now", ""),
        "archive_property": lambda a: props.set_property_archived(a, pid, True),
        "add_unit": lambda a: props.add_unit(a, pid, "9Z"),
        "rename_unit": lambda a: props.rename_unit(a, uid, "9Z"),
        "archive_unit": lambda a: props.set_unit_archived(a, uid, True),
        "list_services": lambda a: services.list_services(a, pid),
        "add_service": lambda a: services.save_service(
            a, pid, None, ServiceInput("Spying")
        ),
        "edit_service": lambda a: services.save_service(
            a, pid, sid, ServiceInput("Spying")
        ),
        "remove_service": lambda a: services.remove_service(a, sid),
        "service_log": lambda a: services.service_log(a, pid),
        "log_performed": lambda a: services.log_performed(a, sid, "Spying"),
    }


async def _unchanged(demo: Demo, theirs: dict[str, Any]) -> None:
    tid = theirs["property"].tenant_id
    async with tenant_session(tid) as s:
        prop = await s.get(type(theirs["property"]), (tid, theirs["property"].id))
        unit = await s.get(Unit, (tid, theirs["unit"].id))
        svc = await s.get(PropertyService, (tid, theirs["service"].id))
        units = (
            await s.exec(select(Unit).where(Unit.property_id == theirs["property"].id))
        ).all()
    assert prop is not None and prop.name == "Riverside Lofts"
    assert prop.archived_at is None
    assert unit is not None and unit.label == theirs["unit"].label
    assert unit.archived_at is None
    assert svc is not None and svc.active and svc.name == theirs["service"].name
    assert "9Z" not in {u.label for u in units}
    async with tenant_session(tid) as s:
        notes = (await s.exec(select(ServiceLog.note))).all()
    assert "Spying" not in notes


async def test_another_tenants_ids_are_not_found_everywhere(demo: Demo) -> None:
    theirs = await _riverside(demo)
    for attacker in ("admin", "dana"):  # every role check passes
        actor = actor_of(demo.user("maple-court", attacker))
        for name, call in _every_call(theirs).items():
            if attacker == "dana" and name not in (
                "property_detail",
                "list_services",
                "service_log",
                "log_performed",
            ):
                continue  # a manager's changes stop at the role check
            with pytest.raises(NotFound):
                await call(actor)
    await _unchanged(demo, theirs)
    admin = actor_of(demo.user("maple-court", "admin"))
    listed = await props.list_properties(admin, query="riverside", archived=True)
    assert listed.total == 0


async def test_a_unit_or_service_moved_under_my_property_is_refused(
    demo: Demo,
) -> None:
    """Ids of another tenant's unit / service, sent with one of my own property
    ids, still reach nothing."""
    theirs = await _riverside(demo)
    admin = actor_of(demo.user("maple-court", "admin"))
    mine = demo.property("maple-court", "maple-court-12")
    with pytest.raises(NotFound):
        await services.save_service(
            admin, mine.id, theirs["service"].id, ServiceInput("Spying")
        )
    await _unchanged(demo, theirs)


async def test_employees_and_residents_are_refused(demo: Demo) -> None:
    mine = demo.property("maple-court", "maple-court-12")
    async with tenant_session(mine.tenant_id) as s:
        unit = (await s.exec(select(Unit).where(Unit.property_id == mine.id))).first()
        svc = (
            await s.exec(
                select(PropertyService).where(PropertyService.property_id == mine.id)
            )
        ).first()
    own = {"property": mine, "unit": unit, "service": svc}
    for handle in ("omar", "ben"):
        actor = actor_of(demo.user("maple-court", handle))
        with pytest.raises(Forbidden):
            await props.list_properties(actor)
        with pytest.raises(Forbidden):
            await props.create_property(actor, "Sneaky House")
        for call in _every_call(own).values():
            with pytest.raises(Forbidden):
                await call(actor)
    admin = actor_of(demo.user("maple-court", "admin"))
    detail = await props.property_detail(admin, mine.id)
    assert not detail.archived and "9Z" not in {u.label for u in detail.units}
    assert (await props.list_properties(admin, query="sneaky")).total == 0
