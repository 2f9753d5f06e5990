"""Settings in the browser: every field has a label, choices are saved and still
there after a reload; Priya's seeded push hours show as set."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import RunningApp, at, screenshots, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def choose(page: Any, label: str) -> None:
    radio = page.get_by_label(label)
    radio.click()
    expect(radio).to_be_checked()


def test_push_hours_and_digest_are_saved(app_server: RunningApp, browser: Any) -> None:
    base = app_server.url
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        sign_in(page, base, "harbor-bistro", "priya@harbor-bistro.example")
        page.get_by_role("link", name="Settings").click()
        page.wait_for_url(at(base, "/settings"))
        # Reached through their labels: the seed says 10am to 11pm.
        quiet = page.get_by_label("Only between set hours")
        page.wait_for_function(
            "document.getElementById('push-from')?.value === '10:00'"
        )
        assert quiet.get_attribute("aria-checked") == "true"
        assert page.get_by_label("Until").input_value() == "23:00"
        assert page.get_by_label("Each one as it arrives").is_checked()
        screenshots(page, "settings-priya")

        page.get_by_label("From").fill("09:30")
        # A controlled radio: it turns checked once the server's state comes
        # back, so click and wait rather than Playwright's immediate check().
        choose(page, "One summary at most every 30 minutes")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Notification settings saved.").wait_for()
        page.reload()
        page.wait_for_function(
            "document.getElementById('push-from')?.value === '09:30'"
        )
        assert page.get_by_label("One summary at most every 30 minutes").is_checked()

        # Back as seeded (other tests read Priya's push hours).
        page.get_by_label("From").fill("10:00")
        choose(page, "Each one as it arrives")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Notification settings saved.").last.wait_for()
    finally:
        ctx.close()
