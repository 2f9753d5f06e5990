"""The console's properties tab in a real browser: an admin adds a property with a
unit, adds a recurring service, logs it done by hand and archives the property;
screenshots of the list and of a property at phone and desktop width."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import RunningApp, screenshots, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A few services performed at Maple Court, so the log has history to show.
LOG_SERVICES = """
import asyncio
from datetime import timedelta
from sqlmodel import select
from app.core.embedded import stack_services
from app.core.db import dispose_engines, platform_session, tenant_session
from app.domain.models import Property, PropertyService, ServiceLog, Tenant, User
from app.domain.models import utcnow

async def main():
    async with platform_session() as ps:
        found = await ps.exec(select(Tenant).where(Tenant.slug == "maple-court"))
        tenant = found.one()
    async with tenant_session(tenant.id) as s:
        found = await s.exec(select(Property).where(Property.slug == "maple-court-12"))
        prop = found.one()
        grace = (await s.exec(select(User).where(User.handle == "grace"))).one()
        svc = (await s.exec(select(PropertyService).where(
            PropertyService.property_id == prop.id,
            PropertyService.name == "Hallway cleaning"))).one()
        for week in range(3):
            s.add(ServiceLog(tenant_id=tenant.id, property_id=prop.id,
                service_id=svc.id, service_name=svc.name, performed_by=grace.id,
                note=f"All floors, week {week}",
                performed_at=utcnow() - timedelta(days=7 * week + 1)))
    await dispose_engines()

with stack_services():
    asyncio.run(main())
"""


def _choose(page: Any, label: str, option: str) -> None:
    """Pick `option` in the Radix select labelled `label`."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_admin_adds_a_property_with_a_unit_and_service_then_archives_it(
    app_server: RunningApp, browser: Any
) -> None:
    base = app_server.url
    app_server.run_python(LOG_SERVICES)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    name = f"Cedar Point {uuid.uuid4().hex[:4]}"
    try:
        sign_in(page, base, "maple-court", "admin@maple-court.example", "/admin")
        page.get_by_role("tab", name="Properties").click()
        page.locator(".property-row", has_text="Elm House").wait_for()
        screenshots(page, "admin-properties")

        # A populated property: units with residents, services, the log.
        page.get_by_role("button", name="Open Maple Court").click()
        page.locator(".unit-row", has_text="Ben Carter").wait_for()
        page.locator(".log-row", has_text="Grace Kim").first.wait_for()
        screenshots(page, "admin-property")
        page.get_by_role("button", name="All properties").click()

        page.get_by_role("button", name="Add property").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name", exact=True).fill("maple court")
        dialog.get_by_role("button", name="Save property").click()
        dialog.get_by_text("A property called Maple Court already exists").wait_for()
        dialog.get_by_label("Name", exact=True).fill(name)
        dialog.get_by_label("Address", exact=True).fill("4 Cedar Road, London")
        dialog.get_by_role("button", name="Save property").click()
        page.get_by_role("heading", name=name).wait_for()

        page.get_by_label("New unit").fill("1A")
        page.get_by_role("button", name="Add unit").click()
        page.locator(".unit-row", has_text="1A").wait_for()

        page.get_by_role("button", name="Add service").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Service", exact=True).fill("Window cleaning")
        _choose(page, "Done by", "An outside vendor")
        dialog.get_by_label("Vendor", exact=True).fill("Clear View Ltd")
        _choose(page, "On", "Thursday")
        dialog.get_by_label("At", exact=True).fill("08:30")
        screenshots(page, "admin-service-dialog")
        dialog.get_by_role("button", name="Save service").click()
        row = page.locator(".service-row", has_text="Window cleaning")
        row.get_by_text("every Thursday at 08:30").wait_for()
        row.get_by_text("Clear View Ltd").wait_for()

        # The service done, logged by hand: a date in the future is refused in
        # the dialog, then the entry heads the log with who logged it.
        page.get_by_role("button", name="Log a service").click()
        dialog = page.get_by_role("dialog")
        assert dialog.get_by_label("Service", exact=True).inner_text() == (
            "Window cleaning"
        )
        dialog.get_by_label("Done at", exact=True).fill("2999-01-01T09:00")
        dialog.get_by_label("Note", exact=True).fill("North side, ladder needed")
        dialog.get_by_role("button", name="Log service").click()
        dialog.get_by_text("only be logged once it has been done").wait_for()
        two_days_ago = datetime.now(ZoneInfo("Europe/London")) - timedelta(days=2)
        dialog.get_by_label("Done at", exact=True).fill(
            two_days_ago.strftime("%Y-%m-%dT%H:%M")
        )
        screenshots(page, "admin-log-service-dialog")
        dialog.get_by_role("button", name="Log service").click()
        entry = page.locator(".log-row", has_text="Window cleaning")
        entry.get_by_text("Maple Admin").wait_for()
        assert page.locator(".log-row").count() == 1

        page.get_by_role("button", name="Archive property").click()
        page.get_by_text("Archived: hidden from the list").wait_for()
        assert page.get_by_role("button", name="Add unit").count() == 0
        page.get_by_role("button", name="All properties").click()
        page.locator(".property-row", has_text="Elm House").wait_for()
        assert page.locator(".property-row", has_text=name).count() == 0
        page.get_by_role("checkbox", name="Show archived").click()
        archived = page.locator(".property-row", has_text=name)
        archived.get_by_text("archived").wait_for()

        page.get_by_role("tab", name="Audit").click()
        page.get_by_text("property.archived").first.wait_for()
        page.get_by_text("service.logged").first.wait_for()
    finally:
        context.close()
