"""Two people on two devices: what one causes appears on the other's screen live,
without a reload."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import (
    RunningApp,
    at,
    describe,
    screenshots,
    serious,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REMINDER = "Remind the kitchen team to deep clean the walk-in fridge on Friday at 10pm."

# Played in a separate process on the app's own database and Redis: what the worker
# does when an action notifies someone (rows committed, then the live event).
NOTIFY_LUIS = """
import asyncio
from sqlmodel import select
from app.core.embedded import stack_services
from app.core.db import dispose_engines, platform_session, tenant_session
from app.domain.models import Tenant, User
from app.services.notifications import notify_users

async def main():
    async with platform_session() as ps:
        t = (await ps.exec(select(Tenant).where(Tenant.slug == "harbor-bistro"))).one()
    async with tenant_session(t.id) as s:
        luis = (await s.exec(select(User).where(User.handle == "luis"))).one()
        await notify_users(
            s, t.id, [luis.id], kind="notify", title=%(title)r,
            body="From the e2e test", dedupe_key=%(key)r,
        )
    await dispose_engines()

with stack_services():
    asyncio.run(main())
"""


def _luis_on_alerts(browser: Any, base: str) -> tuple[Any, Any]:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "harbor-bistro", "luis@harbor-bistro.example")
    page.get_by_role("link", name="Alerts").click()
    page.wait_for_url(at(base, "/alerts"))
    page.get_by_text("Luis Ortega").wait_for()
    return context, page


def _unread(page: Any) -> int:
    badge = page.locator("#unread-badge")
    return int(badge.inner_text()) if badge.count() else 0


def test_worker_event_appears_live(app_server: RunningApp, browser: Any) -> None:
    """The delivery path alone: a notification committed and published by another
    process shows up in luis's open tab (list, badge, toast), not in sam's."""
    base = app_server.url
    earlier = f"Delivery moved {uuid.uuid4().hex[:6]}"
    app_server.run_python(NOTIFY_LUIS % {"title": earlier, "key": f"e2e:{earlier}"})
    luis_ctx, luis = _luis_on_alerts(browser, base)
    luis.locator(".alert", has_text=earlier).wait_for()
    sam_ctx = browser.new_context()
    sam = sam_ctx.new_page()
    try:
        sign_in(sam, base, "harbor-bistro", "sam@harbor-bistro.example")
        sam.get_by_text("Sam Okafor").wait_for()
        luis.wait_for_timeout(1000)  # the listener has started
        # Other tests of this session may have left sam alerts of his own.
        sam_unread = _unread(sam)
        title = f"Walk-in fridge check {uuid.uuid4().hex[:6]}"
        began = time.monotonic()
        app_server.run_python(NOTIFY_LUIS % {"title": title, "key": f"e2e:{title}"})
        luis.locator(".alert", has_text=title).wait_for(timeout=15_000)
        latency = time.monotonic() - began
        luis.locator("#unread-badge").wait_for()
        assert latency < 15
        # Above the alerts the page opened with, as a full read would order it.
        shown = luis.locator(".alert").all_inner_texts()
        assert title in shown[0] and earlier in shown[1], shown
        screenshots(luis, "alerts-live-arrival")
        found = serious(Axe().run(luis).response)
        assert not found, describe(found)
        sam.wait_for_timeout(1500)
        assert sam.get_by_text(title).count() == 0
        assert _unread(sam) == sam_unread
    finally:
        luis_ctx.close()
        sam_ctx.close()


def test_maya_reminder_reaches_luis_live(app_server: RunningApp, browser: Any) -> None:
    """The product's promise end to end: maya (manager) asks the assistant, luis
    (kitchen team) sees the notification appear without reloading."""
    base = app_server.url
    luis_ctx, luis = _luis_on_alerts(browser, base)
    maya_ctx = browser.new_context()
    maya = maya_ctx.new_page()
    try:
        before = luis.locator(".alert").count()
        sign_in(maya, base, "harbor-bistro", "maya@harbor-bistro.example")
        maya.fill("textarea[name=body]", REMINDER)
        maya.get_by_role("button", name="Send").click()
        maya.locator(".msg-user", has_text="walk-in fridge").wait_for()
        maya.locator(".msg-assistant").first.wait_for(timeout=90_000)
        assert "small offline model" in maya.content()
        luis.wait_for_function(
            f"document.querySelectorAll('.alert').length > {before}",
            timeout=60_000,
        )
        newest = luis.locator(".alert").first.inner_text().lower()
        assert "fridge" in newest, newest
        luis.locator("#unread-badge").wait_for()
    finally:
        luis_ctx.close()
        maya_ctx.close()
