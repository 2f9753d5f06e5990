"""The console's properties tab through the real handlers: an admin adds a property
with a unit and a recurring service and archives it; bad input is a message next
to the form; another tenant's ids are "not found" through every handler that takes
one; managers read, employees and residents get nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import Property, PropertyService, Unit
from state.properties import VENDOR, PropertiesState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, sign_in, toast


@pytest.fixture
async def cleanup(owner_engine: Any) -> AsyncIterator[list[str]]:
    """Names of properties a test creates, deleted afterwards."""
    names: list[str] = []
    yield names
    with owner_engine.begin() as conn:
        for name in names:
            conn.execute(text("DELETE FROM properties WHERE name = :n"), {"n": name})


async def _tab(slug: str, handle: str) -> PropertiesState:
    tab = new_tab()
    await sign_in(tab, slug, handle)
    state = await tab.get_state(PropertiesState)
    return state


async def test_admin_adds_a_property_unit_and_service_then_archives_it(
    demo: Demo, clean_db: None, cleanup: list[str]
) -> None:
    name = f"Cedar Point {uuid.uuid4().hex[:6]}"
    cleanup.append(name)
    st = await _tab("maple-court", "admin")
    await call(st, "load_properties")
    assert {"Maple Court", "Elm House"} <= {r["name"] for r in st.rows}
    assert any(t[1] == "Cleaning Crew" for t in st.team_choices)

    await call(st, "new_property")
    await call(st, "set_prop", "name", "Maple Court")
    assert await call(st, "save_property") is None
    assert "already exists" in st.prop_error and st.prop_open
    await call(st, "set_prop", "name", name)
    await call(st, "set_prop", "address", "4 Cedar Road")
    assert "Saved" in toast(await call(st, "save_property"))
    assert not st.prop_open and st.name == name and st.selected

    await call(st, "set_new_unit", "1A")
    assert "Added unit 1A" in toast(await call(st, "add_unit"))
    await call(st, "set_new_unit", "1a")
    await call(st, "add_unit")
    assert st.unit_error == f"{name} already has a unit 1A."
    assert [u["label"] for u in st.units] == ["1A"]

    await call(st, "new_service")
    await call(st, "set_svc", "name", "Window cleaning")
    await call(st, "set_svc", "who", VENDOR)
    await call(st, "set_svc", "vendor", "Clear View Ltd")
    await call(st, "set_svc", "repeat", "monthly")
    await call(st, "set_svc", "month_day", "40")
    assert await call(st, "save_service") is None and "HH:MM" in st.svc_error
    await call(st, "set_svc", "month_day", "3")
    await call(st, "set_svc", "time", "08:30")
    assert "Saved Window cleaning" in toast(await call(st, "save_service"))
    [svc] = st.services
    assert (svc["who"], svc["kind"], svc["when"]) == (
        "Clear View Ltd",
        "vendor",
        "every month on day 3 at 08:30",
    )
    assert svc["next"]
    await call(st, "edit_service", svc["id"])
    assert (st.svc_who, st.svc_repeat, st.svc_month_day) == (VENDOR, "monthly", "3")
    await call(st, "close_service")

    assert "Archived" in toast(await call(st, "archive_property", True))
    assert st.archived
    await call(st, "close_property")
    assert name not in {r["name"] for r in st.rows}
    await call(st, "set_show_archived", True)
    row = next(r for r in st.rows if r["name"] == name)
    assert (row["state"], row["units"], row["services"]) == ("archived", "1", "1")


@pytest.mark.isolation
async def test_other_tenants_ids_are_not_found_through_every_handler(
    demo: Demo, clean_db: None
) -> None:
    theirs = demo.property("riverside-lofts", "riverside-1")
    async with tenant_session(theirs.tenant_id) as s:
        unit = (await s.exec(select(Unit).where(Unit.property_id == theirs.id))).first()
        svc = (
            await s.exec(
                select(PropertyService).where(PropertyService.property_id == theirs.id)
            )
        ).first()
    assert unit is not None and svc is not None
    st = await _tab("maple-court", "admin")
    await call(st, "load_properties")
    assert "Not found." in toast(await call(st, "open_property", str(theirs.id)))
    assert st.selected == "" and st.name == ""
    assert "Not found." in toast(await call(st, "archive_unit", str(unit.id), True))
    assert "Not found." in toast(await call(st, "remove_service", str(svc.id)))
    assert "Not found." in toast(await call(st, "open_property", "not-an-id"))
    # Handlers that act on the open property: a forged selection reaches nothing.
    st.selected = str(theirs.id)
    for handler, args in (
        ("archive_property", (True,)),
        ("log_go", (1,)),
        ("edit_service", (str(svc.id),)),
    ):
        assert "Not found." in toast(await call(st, handler, *args))
    st.new_unit = "9Z"
    await call(st, "add_unit")
    assert st.unit_error == "Not found."
    st.svc_name, st.svc_id = "Spying", str(svc.id)
    await call(st, "save_service")
    assert st.svc_error == "Not found."
    st.prop_id, st.prop_name = str(theirs.id), "Mine now"
    await call(st, "save_property")
    assert st.prop_error == "Not found."
    st.rename_id, st.rename_label = str(unit.id), "9Z"
    await call(st, "save_rename")
    assert st.rename_error == "Not found."

    async with tenant_session(theirs.tenant_id) as s:
        prop = await s.get(Property, (theirs.tenant_id, theirs.id))
        units = (await s.exec(select(Unit).where(Unit.property_id == theirs.id))).all()
        again = await s.get(PropertyService, (theirs.tenant_id, svc.id))
    assert prop is not None and prop.name == "Riverside Lofts"
    assert prop.archived_at is None
    assert all(u.archived_at is None and u.label != "9Z" for u in units)
    assert again is not None and again.active and again.name == svc.name


@pytest.mark.isolation
async def test_managers_read_and_others_are_refused(demo: Demo, clean_db: None) -> None:
    maple = demo.property("maple-court", "maple-court-12")
    dana = await _tab("maple-court", "dana")
    await call(dana, "load_properties")
    assert "Maple Court" in {r["name"] for r in dana.rows}
    await call(dana, "open_property", str(maple.id))
    assert dana.name == "Maple Court" and len(dana.services) == 3
    assert "not allowed" in toast(await call(dana, "archive_property", True))
    assert "not allowed" in toast(await call(dana, "new_property"))
    assert not dana.prop_open and not dana.archived

    for handle in ("omar", "ben"):
        st = await _tab("maple-court", handle)
        assert await call(st, "load_properties") is None  # the page says why
        assert st.rows == []
        assert "not allowed" in toast(await call(st, "open_property", str(maple.id)))
        assert st.name == "" and st.units == []
        assert "not allowed" in toast(await call(st, "search", "maple"))
        assert st.rows == []
