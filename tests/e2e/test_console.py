"""The admin console and the work pages render and act in a real browser."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.conftest import RunningApp, at, sign_in

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
        page.get_by_role("columnheader", name="Tokens").wait_for()

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
