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


PURCHASE = "Please buy a new fryer for the kitchen, it costs $450."

# What Luis's purchase led to in the database, counted in a separate process on
# the app's own PostgreSQL: the action ran once, the approval was decided once.
COUNT_PURCHASE = """
import asyncio, json
from sqlalchemy import func
from sqlmodel import col, select
from app.core.embedded import stack_services
from app.core.db import dispose_engines, platform_session, tenant_session
from app.domain.models import (
    Approval, Message, Notification, ProposedAction, Task, Tenant, User,
)

async def main():
    async with platform_session() as ps:
        t = (await ps.exec(select(Tenant).where(Tenant.slug == "harbor-bistro"))).one()
    async with tenant_session(t.id) as s:
        luis = (await s.exec(select(User).where(User.handle == "luis"))).one()
        msgs = select(Message.id).where(
            Message.sender_user_id == luis.id, Message.body == %(body)r
        )
        actions = (await s.exec(
            select(ProposedAction).where(col(ProposedAction.message_id).in_(msgs))
        )).all()
        ids = [a.id for a in actions]
        approvals = (await s.exec(
            select(Approval).where(col(Approval.action_id).in_(ids))
        )).all()
        tasks = [
            a.result["task"] for a in actions if a.result and a.result.get("task")
        ]
        fryer_tasks = (await s.exec(
            select(func.count()).select_from(Task).where(
                Task.created_by == luis.id, col(Task.title).ilike("%%fryer%%")
            )
        )).one()
        told = (await s.exec(
            select(func.count()).select_from(Notification).where(
                Notification.user_id == luis.id,
                Notification.kind == "approval_result",
            )
        )).one()
    print(json.dumps({
        "actions": [[a.type, a.status, (a.payload or {}).get("cost")] for a in actions],
        "approvals": [a.status for a in approvals],
        "tasks": len(tasks),
        "fryer_tasks": fryer_tasks,
        "told": told,
    }))
    await dispose_engines()

with stack_services():
    asyncio.run(main())
"""


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_luis_hears_back_when_maya_approves_his_purchase(
    app_server: RunningApp, browser: Any
) -> None:
    """Luis (phone) asks for a $450 purchase; his chat says it waits for Maya.
    Maya (desktop, approvals open) sees the card appear live with who, when, what
    and how much, and approves it; Luis's open chat hears back live, and the task
    was created exactly once."""
    base = app_server.url
    maya_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    luis_ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        maya = maya_ctx.new_page()
        sign_in(maya, base, "harbor-bistro", "maya@harbor-bistro.example")
        maya.get_by_role("link", name="Approvals").click()
        maya.wait_for_url(at(base, "/approvals"))
        maya.wait_for_timeout(1000)  # the live listener has started

        luis = luis_ctx.new_page()
        sign_in(luis, base, "harbor-bistro", "luis@harbor-bistro.example")
        luis.fill("textarea[name=body]", PURCHASE)
        luis.get_by_role("button", name="Send").click()
        waiting = luis.locator(".action-card[data-kind=waiting]", has_text="Maya Chen")
        waiting.wait_for(timeout=90_000)
        assert "fryer" in waiting.inner_text().lower()

        # Maya's open approvals list shows the card live: requester, time, the
        # exact action and amount, and what Luis wrote.
        card = maya.locator(".approval", has_text="Luis Ortega")
        card.wait_for(timeout=30_000)
        assert card.locator(".amount").inner_text() == "Amount: $450.00"
        assert "fryer" in card.inner_text().lower()
        assert card.locator(".asked").inner_text().startswith("Luis Ortega asked ")
        assert card.locator(".original").inner_text() == PURCHASE
        assert maya.locator(".approval").count() == 1
        # The toast says what arrived, beside the page, not over its header or
        # the list.
        toast = maya.locator("[data-sonner-toast]", has_text="Approval needed")
        toast.wait_for(timeout=10_000)
        assert "fryer" in toast.inner_text().lower()
        maya.wait_for_timeout(800)  # measured where it rests, not sliding in
        toast_box, main_box = toast.bounding_box(), maya.locator("main").bounding_box()
        assert toast_box is not None and main_box is not None
        assert not _overlaps(toast_box, main_box), (toast_box, main_box)
        screenshots(maya, "approvals-maya")
        screenshots(luis, "chat-luis-waiting")

        card.get_by_role("button", name="Approve").click()
        maya.locator(".approval").first.wait_for(state="detached", timeout=15_000)

        # Luis's open chat hears back, live, and the toast on his phone stays
        # below the page header.
        news = luis.locator(".msg-assistant", has_text="Maya Chen approved")
        news.wait_for(timeout=30_000)
        luis.locator(".action-card[data-kind=task]", has_text="approved").wait_for(
            timeout=15_000
        )
        phone_toast = luis.locator("[data-sonner-toast]", has_text="approved")
        phone_toast.wait_for(timeout=10_000)
        luis.wait_for_timeout(800)  # measured where it rests, not sliding in
        header = luis.locator("h1").bounding_box()
        box = phone_toast.bounding_box()
        assert header is not None and box is not None
        assert box["y"] >= header["y"] + header["height"] - 1, (box, header)
        screenshots(luis, "chat-luis-approved")

        import json

        counts = json.loads(
            app_server.run_python(COUNT_PURCHASE % {"body": PURCHASE}).strip()
        )
        assert counts["actions"] == [["create_task", "executed", 450]], counts
        assert counts["approvals"] == ["approved"], counts
        assert counts["tasks"] == 1 and counts["fryer_tasks"] == 1, counts
        assert counts["told"] == 1, counts
    finally:
        maya_ctx.close()
        luis_ctx.close()
