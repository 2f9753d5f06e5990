"""The admin console and the work pages render and act in a real browser."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.core.settings import PROJECT_ROOT
from tests.e2e.conftest import PASSWORD, RunningApp, at, sign_in
from tests.e2e.fake_llm import FakeLLM

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
        # The list with a disabled account (its "Enable" button) passes axe too;
        # the seeded accessibility screens have none.
        row.get_by_role("button", name="Enable").wait_for()
        page.wait_for_timeout(800)  # its toast at rest, not sliding in
        violations = [
            v
            for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert violations == [], [
            (v["id"], n["target"], n.get("failureSummary", "")[:160])
            for v in violations
            for n in v["nodes"]
        ]

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


def test_console_scenario_from_setup_to_forgetting(
    app_server: RunningApp, browser: Any, fake_llm: FakeLLM
) -> None:
    """The console end to end, in Riverside Lofts (no other browser test uses it):
    the admin forbids external memory (with an external model), creates a user
    and gives them the manager role, and a team; an employee's next message goes
    to the external model without memories and its chain shows all of it; the new
    manager approves from the console; a forgotten memory is no longer retrieved;
    the employee is refused at /admin cleanly."""
    base = app_server.url
    tag = uuid.uuid4().hex[:6]
    nia, nia_email = f"Nia {tag}", f"nia-{tag}@riverside-lofts.example"
    team = f"Night {tag}"
    fact = f"The {tag} ladder is kept in the bike store."
    admin_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    omar_ctx = browser.new_context(viewport={"width": 390, "height": 844})
    nia_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page, omar, manager = (c.new_page() for c in (admin_ctx, omar_ctx, nia_ctx))
    try:
        sign_in(
            page, base, "riverside-lofts", "admin@riverside-lofts.example", "/admin"
        )
        # Settings: an external model, memory kept from it, notices need approval.
        page.get_by_role("tab", name="Settings").click()
        # Amounts in the organisation's currency: pounds for this London one.
        currency = page.locator("#s-currency")
        currency.filter(has_text="GBP").wait_for()
        assert page.get_by_label("Currency").inner_text() == "GBP"
        page.get_by_role("checkbox", name="notify", exact=True).click()
        page.fill("#s-model", "openai/gpt-4o-mini")
        page.get_by_role(
            "checkbox", name="Memory content may be sent to an external model provider"
        ).click()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_text("Settings saved.").wait_for()
        shoot(page, "admin-settings")

        # A user, given the manager role.
        page.get_by_role("tab", name="Users").click()
        page.fill("input[name=name]", nia)
        page.fill("input[name=email]", nia_email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Create user").click()
        row = page.locator(".user-row", has_text=nia_email)
        row.wait_for()
        page.get_by_role("button", name=f"Edit {nia}").click()
        page.locator("#e-role").click()
        page.get_by_role("option", name="manager").click()
        page.get_by_role("dialog").get_by_role("button", name="Save").click()
        row.get_by_text("manager").wait_for()

        # A team of the new manager (its lead) and Omar, from the member picker.
        page.get_by_role("button", name="New team").click()
        page.fill("#t-name", team)
        for who in (nia, "Omar Novak"):
            page.fill("#t-find", who)
            # The search is debounced: wait for its one result before clicking.
            page.get_by_text("1 staff · page 1 of 1").wait_for()
            page.locator(".staff-results").get_by_role(
                "checkbox", name=re.compile(re.escape(who))
            ).click()
            page.locator(".team-picked", has_text=who).wait_for()
        page.locator("#t-lead").click()
        page.get_by_role("option", name=nia).click()
        shoot(page, "admin-team-dialog")
        page.get_by_role("button", name="Save team").click()
        page.locator(".team-row", has_text=team).wait_for()

        page.get_by_role("tab", name="Memory").click()
        page.fill("#m-new-text", fact)
        page.get_by_role("button", name="Remember").click()
        # The first embedding in the app's process loads the model: slow once.
        page.locator(".memory", has_text=fact).wait_for(timeout=180_000)

        # The audit tab reloads with the page (the people and memory tabs do not
        # refresh it yet).
        page.goto(f"{base}/admin")
        page.get_by_role("tab", name="Audit").click()
        for kind in (
            "tenant.settings_updated",
            "user.created",
            "user.role_changed",
            "team.created",
            "memory.created",
        ):
            page.get_by_text(kind).first.wait_for()

        # Omar's next message: to the external model, which gets no memories.
        fake_llm.answer = {
            "reply": "Asking the night team.",
            "actions": [
                {
                    "type": "notify",
                    "recipients": [f"team:night-{tag}"],
                    "message": f"Where is the {tag} ladder?",
                }
            ],
        }
        before = len(fake_llm.requests)
        sign_in(omar, base, "riverside-lofts", "omar@riverside-lofts.example")
        omar.fill(
            "textarea[name=body]", f"Where is the {tag} ladder? Ask the night team"
        )
        omar.get_by_role("button", name="Send").click()
        omar.locator(".msg-assistant", has_text="approval").wait_for(timeout=90_000)
        assert len(fake_llm.requests) > before  # the external model was called
        sent = json.dumps(fake_llm.requests[before:])
        assert f"{tag} ladder" in sent and "bike store" not in sent
        omar.goto(f"{base}/admin")
        omar.get_by_role("heading", name="Not available for your role").wait_for()
        omar.wait_for_timeout(1000)
        assert omar.locator("[data-sonner-toast]").count() == 0
        assert omar.get_by_role("tab").count() == 0
        shoot(omar, "admin-refused-employee")

        # The new manager approves from the console.
        sign_in(manager, base, "riverside-lofts", nia_email)
        manager.get_by_role("link", name="Console").click()
        manager.get_by_role("heading", name="Team console").wait_for()
        card = manager.get_by_text(f"{tag} ladder").first
        card.wait_for()
        shoot(manager, "manager-approvals")
        manager.get_by_role("tab", name="My teams").click()
        manager.locator(".my-team", has_text=team).get_by_text("lead").wait_for()
        assert manager.locator(".my-team", has_text="Management").count() == 0
        shoot(manager, "manager-teams")
        manager.get_by_role("tab", name="Approvals").click()
        manager.get_by_role("button", name="Approve").first.click()
        manager.get_by_text("Approved.").wait_for()

        # The chain of that message shows all of it.
        page.goto(f"{base}/admin")
        page.get_by_role("tab", name="Audit").click()
        page.locator(".message-row", has_text=f"{tag} ladder").get_by_role(
            "link"
        ).click()
        page.wait_for_url(re.compile(r".*/admin/chain/?\?ref=message:.*"))
        chain_url = page.url
        page.get_by_text("Omar Novak (employee)").wait_for()
        page.locator(".withheld").wait_for()
        page.get_by_role("cell", name=fact).wait_for()  # retrieved, not sent
        page.get_by_role("cell", name="gpt-4o-mini", exact=True).wait_for()
        action = page.locator(".chain-action").first
        assert "notify" in action.inner_text()
        action.locator(".approval", has_text=nia).wait_for()
        assert "approved" in action.locator(".approval").inner_text()
        shoot(page, "admin-chain-withheld")

        # Forgotten: the old chain says so, and the next message retrieves it not.
        page.goto(f"{base}/admin")
        page.get_by_role("tab", name="Memory").click()
        page.locator(".memory", has_text=fact).get_by_role(
            "button", name="Forget"
        ).click()
        page.get_by_text("Forgotten.").wait_for()
        assert page.locator(".memory", has_text=fact).count() == 0
        page.goto(chain_url)
        page.get_by_role("cell", name="(forgotten since)").wait_for()

        fake_llm.answer = {"reply": "I don't know where it is.", "actions": []}
        omar.goto(f"{base}/")
        omar.fill("textarea[name=body]", f"Where is the {tag} ladder kept now?")
        omar.get_by_role("button", name="Send").click()
        omar.locator(".msg-assistant", has_text="don't know").wait_for(timeout=90_000)
        page.goto(f"{base}/admin")
        page.get_by_role("tab", name="Audit").click()
        page.locator(".message-row", has_text="kept now").get_by_role("link").click()
        # The chain page held the earlier chain until this one loads: wait for this
        # message before reading what it retrieved.
        page.locator(".chain-body", has_text="kept now").wait_for()
        page.get_by_role("heading", name="Memories retrieved").wait_for()
        page.get_by_text("Omar Novak (employee)").wait_for()
        page.locator(".withheld").wait_for()
        body = page.locator("main").inner_text()
        assert "bike store" not in body and "(forgotten since)" not in body
    except Exception:
        for name, p in (("admin", page), ("omar", omar), ("nia", manager)):
            p.screenshot(path=str(SHOTS / f"failed-scenario-{name}.png"))
        raise
    finally:
        for ctx in (admin_ctx, omar_ctx, nia_ctx):
            ctx.close()


def test_operator_console_pages(app_server: RunningApp, browser: Any) -> None:
    """The operator's organisations and the plan dialog (screenshots)."""
    base = app_server.url
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{base}/operator/login")
        page.fill("input[name=email]", "operator@switchboard.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(at(base, "/operator"), timeout=30_000)
        page.locator(".tenant-row", has_text="maple-court").wait_for()
        shoot(page, "operator-tenants")
        page.get_by_role("button", name="Plan of maple-court").click()
        page.get_by_label("Seats (active accounts)").fill("500")
        page.get_by_role("button", name="Save plan").click()
        page.locator(".tenant-row", has_text="maple-court").get_by_text(
            "500 seats"
        ).wait_for()
        page.get_by_role("button", name="Plan of maple-court").click()
        shoot(page, "operator-plan")
        page.get_by_label("Seats (active accounts)").fill("")
        page.get_by_role("button", name="Save plan").click()
        page.locator(".tenant-row", has_text="maple-court").get_by_text(
            "no limits"
        ).wait_for()
    finally:
        context.close()
