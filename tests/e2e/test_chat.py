"""The chat behaves like a chat: a long conversation opens at its newest message
with the composer in view, older messages load as the person scrolls up, and
"Latest" brings them back down."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import RunningApp, screenshots, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HISTORY = 200

# Priya's chat gets 200 answered messages over nearly three days (the app's own
# database, from a separate process).
SEED_HISTORY = """
import asyncio
from sqlmodel import select
from app.core.embedded import stack_services
from app.core.db import dispose_engines, platform_session, tenant_session
from app.domain.models import Tenant, User
from tests.factories import long_conversation

async def main():
    async with platform_session() as ps:
        t = (await ps.exec(select(Tenant).where(Tenant.slug == "harbor-bistro"))).one()
    async with tenant_session(t.id) as s:
        priya = (await s.exec(select(User).where(User.handle == "priya"))).one()
        await long_conversation(s, t.id, priya.id, %(count)d)
    await dispose_engines()

with stack_services():
    asyncio.run(main())
"""

AT_END = "document.documentElement.scrollHeight - (scrollY + innerHeight) < 4"


def _shown(page: Any) -> list[str]:
    bodies = page.locator(".msg[data-id]").all_inner_texts()
    return [b.split("\n")[0] for b in bodies]


def test_long_chat_opens_at_latest_and_loads_older_on_scroll(
    app_server: RunningApp, browser: Any
) -> None:
    base = app_server.url
    app_server.run_python(SEED_HISTORY % {"count": HISTORY})
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        sign_in(page, base, "harbor-bistro", "priya@harbor-bistro.example")
        page.locator(".msg", has_text="History 200").wait_for()
        # Opens at the newest message, the composer right under it, in view.
        page.wait_for_function(AT_END, timeout=10_000)
        assert _shown(page) == [f"History {i:03d}" for i in range(151, 201)]
        composer = page.locator("#composer").bounding_box()
        newest = page.locator(".msg", has_text="History 200").bounding_box()
        assert composer is not None and newest is not None
        assert newest["y"] + newest["height"] <= composer["y"] + 1
        assert composer["y"] + composer["height"] <= 844 - 40  # above the tab bar
        assert page.locator("#jump-to-latest").is_hidden()
        screenshots(page, "chat-long-latest", full_page=False)

        # Scrolling to the top loads the page above, and the message that was on
        # top stays where the reader left it.
        page.mouse.wheel(0, -200_000)
        page.locator(".msg", has_text="History 101").wait_for(state="attached")
        page.wait_for_function("scrollY > 300")
        assert _shown(page)[:2] == ["History 101", "History 102"]
        anchor = page.locator(".msg", has_text="History 151").bounding_box()
        assert anchor is not None and -10 < anchor["y"] < 844
        assert page.locator("#jump-to-latest").is_visible()
        # ...and so on, one page at a time, to the first message.
        for first in ("History 051", "History 001"):
            page.mouse.wheel(0, -200_000)
            page.locator(".msg", has_text=first).wait_for(state="attached")
        page.wait_for_function("!document.getElementById('load-older')")
        shown = _shown(page)
        assert shown == [f"History {i:03d}" for i in range(1, HISTORY + 1)]
        assert page.locator(".day-separator").count() >= 2
        page.mouse.wheel(0, -200_000)
        page.wait_for_timeout(300)
        screenshots(page, "chat-long-history", full_page=False)

        # "Latest" is back at the newest message, and hides itself there.
        page.locator("#jump-to-latest").click()
        page.wait_for_function(AT_END, timeout=10_000)
        page.locator("#jump-to-latest").wait_for(state="hidden")
        assert page.locator(".msg", has_text="History 200").is_visible()
    finally:
        ctx.close()
