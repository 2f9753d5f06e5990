"""Closing the loop, on two devices: Ben (resident) reports a leak, Omar
(maintenance) sees the task appear live and marks it done, and Ben's open chat and
his "My requests" show it without a reload."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import RunningApp, at, screenshots, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LEAK = "My kitchen sink is leaking under the cabinet."
SINK = re.compile("sink", re.IGNORECASE)


def test_ben_hears_back_when_omar_marks_his_leak_done(
    app_server: RunningApp, browser: Any
) -> None:
    base = app_server.url
    phone = {"viewport": {"width": 390, "height": 844}}
    omar_ctx = browser.new_context(**phone)
    ben_ctx = browser.new_context(**phone)
    try:
        omar = omar_ctx.new_page()
        sign_in(omar, base, "maple-court", "omar@maple-court.example")
        omar.get_by_role("link", name="Tasks").click()
        omar.wait_for_url(at(base, "/tasks"))
        omar.wait_for_timeout(1000)  # the live listener has started
        assert omar.locator(".task", has_text=SINK).count() == 0

        ben = ben_ctx.new_page()
        sign_in(ben, base, "maple-court", "ben@maple-court.example")
        ben.fill("textarea[name=body]", LEAK)
        ben.get_by_role("button", name="Send").click()
        # What the assistant did, under its reply, linking to Ben's requests.
        card = ben.locator(".action-card", has_text=SINK)
        card.wait_for(timeout=90_000)
        assert "Maintenance" in card.inner_text()
        assert card.locator("a").get_attribute("href") in ("/requests", "/requests/")

        # Omar's open task list shows the new task without a reload.
        task = omar.locator(".task", has_text=SINK)
        task.wait_for(timeout=30_000)
        screenshots(omar, "tasks-omar")
        screenshots(ben, "chat-ben")
        task.get_by_role("combobox").click()
        omar.get_by_role("option", name="Done").click()
        omar.locator(".task[data-status=done]", has_text=SINK).wait_for()

        # Ben's open chat hears back, live.
        news = ben.locator(".msg-assistant", has_text="Omar Haddad marked")
        news.wait_for(timeout=30_000)
        assert news.inner_text().split("\n")[0].endswith("done.")
        ben.get_by_role("link", name="Requests").click()
        ben.wait_for_url(at(base, "/requests"))
        mine = ben.locator(".request", has_text=SINK)
        mine.wait_for()
        assert mine.locator(".request-status").inner_text() == "done"
        assert ben.locator("main").count() == 1 and ben.locator("h1").count() == 1
        nav = ben.get_by_role("link", name="Requests")
        assert nav.get_attribute("aria-current") == "page"
        screenshots(ben, "requests-ben")
    finally:
        omar_ctx.close()
        ben_ctx.close()


def test_messages_written_offline_are_sent_once_in_order(
    app_server: RunningApp, browser: Any
) -> None:
    """Offline: two messages become pending bubbles, survive a reload, and once
    the connection is back each is delivered exactly once, in order."""
    base = app_server.url
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        sign_in(page, base, "harbor-bistro", "sam@harbor-bistro.example")
        page.wait_for_timeout(4000)  # the worker and the shell cache are ready
        tag = uuid.uuid4().hex[:6]
        texts = [f"First note {tag}", f"Second note {tag}"]
        ctx.set_offline(True)
        page.locator("#offline-banner").wait_for(state="visible")
        for text in texts:
            page.fill("textarea[name=body]", text)
            page.get_by_role("button", name="Send").click()
            page.locator("[data-pending]", has_text=text).wait_for()
        page.reload()  # still offline: the shell and the outbox come back
        for text in texts:
            page.locator("[data-pending]", has_text=text).wait_for()
        screenshots(page, "chat-offline")
        ctx.set_offline(False)
        page.locator("[data-pending]").first.wait_for(state="detached", timeout=60_000)
        page.wait_for_function(
            "!document.querySelector('[data-pending]')", timeout=60_000
        )
        page.wait_for_timeout(6000)  # a late re-send would show up by now
        sent = page.locator(".msg-user[data-cid^=outbox-]").all_inner_texts()
        mine = [t.split("\n")[0] for t in sent if tag in t]
        assert mine == texts, sent
    finally:
        ctx.close()
