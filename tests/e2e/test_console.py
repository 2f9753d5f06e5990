"""The admin console and the work pages render and act in a real browser."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from app.core.settings import PROJECT_ROOT
from tests.e2e.conftest import RunningApp, at, sign_in

SHOTS = PROJECT_ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_admin_creates_and_disables_a_user(
    app_server: RunningApp, browser: Any
) -> None:
    base = app_server.url
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, base, "maple-court", "admin@maple-court.example", "/admin")
        page.get_by_role("cell", name="dana@maple-court.example").wait_for()
        assert page.get_by_text("riverside-lofts.example").count() == 0

        email = f"e2e-{uuid.uuid4().hex[:6]}@maple-court.example"
        page.fill("input[name=name]", "Eve Tester")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", "e2e-user-password")
        page.get_by_role("button", name="Create user").click()
        row = page.locator(".user-row", has_text=email)
        row.wait_for()
        row.get_by_role("button", name="Disable").click()
        row.get_by_text("disabled").wait_for()

        page.get_by_role("tab", name="Audit").click()
        page.get_by_text("user.disabled").first.wait_for()
        page.get_by_role("tab", name="Usage").click()
        page.locator("#budget").wait_for()

        page.get_by_role("tab", name="Settings").click()
        cancel = page.get_by_role("checkbox", name="cancel service")
        cancel.wait_for()
        assert cancel.get_attribute("aria-checked") == "true"
        page.get_by_role("checkbox", name="schedule").click()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_text("Settings saved.").wait_for()
        page.get_by_role("checkbox", name="schedule").click()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_role("tab", name="Audit").click()
        page.get_by_text("tenant.settings_updated").first.wait_for()
    finally:
        context.close()


def test_work_pages_render_for_their_roles(
    app_server: RunningApp, browser: Any
) -> None:
    base = app_server.url
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, base, "maple-court", "dana@maple-court.example")
        for name, path, marker in (
            ("Tasks", "/tasks", "Tasks"),
            ("Approvals", "/approvals", "Approvals"),
            ("Alerts", "/alerts", "Alerts"),
        ):
            page.get_by_role("link", name=name).click()
            page.wait_for_url(at(base, path))
            page.get_by_role("heading", name=marker).wait_for()
        page.get_by_role("button", name="Turn on").wait_for()  # push offer
    finally:
        context.close()


def shoot(page: Any, name: str) -> None:
    """Full-page screenshots at desktop and phone width (git-ignored artifacts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_admin_opens_a_messages_audit_chain(
    app_server: RunningApp, browser: Any
) -> None:
    """An employee's message runs through the real worker; the employee is refused
    at /admin cleanly; the admin opens the message's chain from the audit tab."""
    base = app_server.url
    luis_ctx = browser.new_context()
    luis = luis_ctx.new_page()
    admin_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = admin_ctx.new_page()
    tag = uuid.uuid4().hex[:6]
    try:
        sign_in(luis, base, "harbor-bistro", "luis@harbor-bistro.example")
        luis.fill("textarea[name=body]", f"Tell the kitchen that fridge {tag} is fixed")
        luis.get_by_role("button", name="Send").click()
        luis.locator(".msg-assistant").first.wait_for(timeout=90_000)
        luis.goto(f"{base}/admin")
        luis.get_by_role("heading", name="Not available for your role").wait_for()
        luis.wait_for_timeout(1000)
        assert luis.locator("[data-sonner-toast]").count() == 0
        assert luis.get_by_role("tab").count() == 0  # no console skeleton
        shoot(luis, "admin-refused")

        sign_in(page, base, "harbor-bistro", "admin@harbor-bistro.example", "/admin")
        page.locator(".team-row", has_text="Kitchen").wait_for()
        shoot(page, "admin-people")
        page.get_by_role("button", name="Edit Luis Ortega").click()
        page.get_by_role("dialog").get_by_text("Teams").wait_for()
        shoot(page, "admin-person-dialog")
        page.get_by_role("button", name="Cancel").click()
        page.get_by_role("tab", name="Memory").click()
        page.locator(".memory", has_text="walk-in fridge").wait_for()
        shoot(page, "admin-memory")
        page.get_by_role("tab", name="Usage").click()
        page.locator("#budget").wait_for()
        page.locator(".recharts-surface").first.wait_for()
        shoot(page, "admin-usage")
        page.get_by_role("tab", name="Integrations").click()
        page.get_by_role("button", name="Create key").wait_for()
        shoot(page, "admin-integrations")
        page.get_by_role("tab", name="Audit").click()
        row = page.locator(".message-row", has_text=tag)
        row.wait_for()
        shoot(page, "admin-audit")
        row.get_by_role("link").click()
        page.wait_for_url(re.compile(r".*/admin/chain/?\?ref=message:.*"))
        page.get_by_text("Luis Ortega (employee)").wait_for()
        page.get_by_role("heading", name="Memories retrieved").wait_for()
        page.locator(".chain-action").first.wait_for()
        assert "notify" in page.locator(".chain-action").first.inner_text()
        page.get_by_role("button", name="Show prompt").click()
        page.get_by_text("<context>", exact=False).first.wait_for()
        page.get_by_role("button", name="Hide prompt").click()
        shoot(page, "admin-chain")
    finally:
        luis_ctx.close()
        admin_ctx.close()
