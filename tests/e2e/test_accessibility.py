"""Every page of the app, at a 390 px phone and a 1440 px desktop: axe-core finds no
serious or critical violation, there is one h1 and one `main`, the signed-in
navigation marks the current page, and on the phone every control is at least 44 px
high. A screenshot of each page at both sizes goes to artifacts/a11y/ (git-ignored).

One browser for the module; one signed-in context per person, reused page to page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.core.settings import PROJECT_ROOT
from tests.e2e.conftest import RunningApp, at, describe, serious, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOTS = PROJECT_ROOT / "artifacts" / "a11y"
SIZES = {390: 844, 1440: 900}
PHONE = 390
MIN_TARGET_PX = 44
OPERATOR = ("a11y-ops@switchboard.example", "a11y-operator-password")
# Not the sink: the Ben journey in test_requests.py reports that one and expects
# no open task for it (a second report would be linked to the first).
REPORT = "The radiator in my bedroom stopped working."
CANCEL = "Cancel the elevator inspection at Maple Court this month."

# Who signs in where (organisation, email, the page they land on).
PEOPLE = {
    "resident": ("maple-court", "ben@maple-court.example", "/"),
    "employee": ("maple-court", "omar@maple-court.example", "/"),
    "manager": ("maple-court", "dana@maple-court.example", "/"),
    "admin": ("maple-court", "admin@maple-court.example", "/admin"),
}


@dataclass(frozen=True)
class Screen:
    name: str
    who: str  # a key of PEOPLE, "anonymous" or "operator"
    path: str
    h1: str  # the page's one h1 (it shows when the page is ready)
    tab: str = ""  # a console tab to open
    via: str = ""  # then a link to follow (the page has no fixed address)
    nav: bool = False  # the signed-in shell: its navigation marks the current page
    shows: str = ""  # a card the seeded work puts on the page (checked with it)


SCREENS = [
    Screen("sign-in", "anonymous", "/login", "Sign in to Switchboard"),
    Screen("operator-sign-in", "anonymous", "/operator/login", "Platform operator"),
    Screen(
        "chat-resident", "resident", "/", "Assistant", nav=True, shows=".action-card"
    ),
    Screen(
        "requests-resident",
        "resident",
        "/requests",
        "My requests",
        nav=True,
        shows=".request",
    ),
    Screen("alerts-resident", "resident", "/alerts", "Alerts", nav=True),
    Screen("tasks-employee", "employee", "/tasks", "Tasks", nav=True, shows=".task"),
    Screen("not-available", "employee", "/admin", "Not available for your role"),
    Screen("chat-manager", "manager", "/", "Assistant", nav=True),
    Screen("tasks-manager", "manager", "/tasks", "Tasks", nav=True),
    Screen("alerts-manager", "manager", "/alerts", "Alerts", nav=True, shows=".alert"),
    Screen(
        "approvals-manager",
        "manager",
        "/approvals",
        "Approvals",
        nav=True,
        shows=".approval",
    ),
    Screen("requests-manager", "manager", "/requests", "My requests", nav=True),
    Screen("settings-manager", "manager", "/settings", "Settings"),
    *[
        Screen(f"console-{tab.lower()}", "admin", "/admin", "Admin console", tab=tab)
        for tab in (
            "Users",
            "Approvals",
            "Audit",
            "Properties",
            "Memory",
            "Usage",
            "Integrations",
            "Settings",
        )
    ],
    Screen(
        "console-property",
        "admin",
        "/admin",
        "Admin console",
        tab="Properties",
        via=".property-row button",
        shows="text=All properties",
    ),
    Screen(
        "console-chain",
        "admin",
        "/admin",
        "Audit chain",
        tab="Audit",
        via=".message-row a",
        shows=".chain-action",
    ),
    Screen(
        "manager-console-approvals",
        "manager",
        "/admin",
        "Team console",
        tab="Approvals",
        shows=".approval",
    ),
    Screen(
        "manager-console-teams", "manager", "/admin", "Team console", tab="My teams"
    ),
    Screen("operator-console", "operator", "/operator", "Organisations"),
]

# The controls a finger has to hit. Elements of 1 px or less are visually hidden
# stand-ins (Radix keeps a native <select> for forms), not targets; a control inside
# a <label> is hit through the whole label, a text input through its bordered field.
TAP_TARGETS_JS = """
(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, '
    + '[role=button], [role=tab], [role=checkbox], [role=combobox], [role=link], '
    + '[role=switch], [role=radio], [role=menuitem], summary';
  const name = (el) => {
    const text = (el.getAttribute('aria-label') || el.innerText || el.value
      || el.getAttribute('name') || '').trim().replace(/\\s+/g, ' ');
    const id = el.id ? '#' + el.id : '';
    return el.tagName.toLowerCase() + id + ' "' + text.slice(0, 40) + '"';
  };
  const small = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('[aria-hidden=true]')) continue;
    const outer = el.closest('label, .rt-TextFieldRoot');
    const h = Math.max(r.height, outer ? outer.getBoundingClientRect().height : 0);
    if (h < min - 0.5) small.push(name(el) + ': ' + Math.round(h) + ' px');
  }
  return small;
}
"""


@pytest.fixture(scope="module")
def devices(app_server: RunningApp, browser: Any) -> Iterator[dict[str, Any]]:
    """One page per person, signed in on first use and reused afterwards."""
    app_server.cli("create-operator", "--email", OPERATOR[0], "--password", OPERATOR[1])
    pages: dict[str, Any] = {}
    contexts: list[Any] = []

    def page_for(who: str) -> Any:
        if who not in pages:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            contexts.append(context)
            page = context.new_page()
            if who in PEOPLE:
                sign_in(page, app_server.url, *PEOPLE[who])
            elif who == "operator":
                page.goto(f"{app_server.url}/operator/login")
                page.fill("input[name=email]", OPERATOR[0])
                page.fill("input[name=password]", OPERATOR[1])
                page.click("button[type=submit]")
                page.wait_for_url(at(app_server.url, "/operator"), timeout=30_000)
            pages[who] = page
        return pages[who]

    yield {"page_for": page_for, "base": app_server.url}
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def seeded(devices: dict[str, Any]) -> None:
    """Work on the pages, so their cards are checked too: Ben reports a broken
    radiator (an action card in his chat, a request, a task for maintenance) and
    Omar cancels a
    service (an approval and an alert for the manager). Both are sent before either
    is waited for: the worker answers them side by side."""
    ben = devices["page_for"]("resident")
    omar = devices["page_for"]("employee")
    for page, text in ((ben, REPORT), (omar, CANCEL)):
        page.goto(f"{devices['base']}/")
        page.fill("textarea[name=body]", text)
        page.get_by_role("button", name="Send").click()
    ben.locator(".action-card").first.wait_for(timeout=120_000)
    omar.locator(".msg-assistant").first.wait_for(timeout=120_000)


def open_screen(page: Any, base: str, screen: Screen) -> None:
    page.goto(f"{base}{screen.path}")
    page.wait_for_url(at(base, screen.path), timeout=30_000)
    page.locator("h1").first.wait_for(timeout=30_000)
    if screen.tab:
        page.get_by_role("tab", name=screen.tab).click()
        page.get_by_role("tabpanel").first.wait_for()
    if screen.via:
        link = page.locator(screen.via).first
        link.wait_for(timeout=30_000)
        link.click()
    page.get_by_role("heading", name=screen.h1, level=1).wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the state's first update settles


def check_structure(page: Any, screen: Screen) -> list[str]:
    problems = []
    h1s = page.locator("h1").all_inner_texts()
    if h1s != [screen.h1]:
        problems.append(f"one h1 {screen.h1!r} expected, found {h1s}")
    if page.locator("main").count() != 1:
        problems.append(f"one <main> expected, found {page.locator('main').count()}")
    if screen.nav:
        current = page.locator(
            "nav [aria-current=page], [role=navigation] [aria-current=page]"
        )
        if current.count() != 1:
            problems.append("the navigation marks no current page (aria-current)")
    return problems


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_page_is_accessible_at_phone_and_desktop_width(
    app_server: RunningApp, devices: dict[str, Any], seeded: None, screen: Screen
) -> None:
    page = devices["page_for"](screen.who)
    open_screen(page, app_server.url, screen)
    if screen.shows:
        page.locator(screen.shows).first.wait_for(timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = check_structure(page, screen)
    for width, height in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(400)  # layout settles at the new width
        page.screenshot(path=str(SHOTS / f"{screen.name}-{width}.png"), full_page=True)
        found = serious(Axe().run(page).response)
        if found:
            problems.append(f"axe at {width} px:\n{describe(found)}")
        if width == PHONE:
            small = page.evaluate(TAP_TARGETS_JS, MIN_TARGET_PX)
            if small:
                problems.append(
                    f"tap targets under {MIN_TARGET_PX} px at {width} px:\n  "
                    + "\n  ".join(small)
                )
    page.set_viewport_size({"width": 1440, "height": 900})
    assert not problems, f"{screen.name} ({screen.path}):\n" + "\n".join(problems)


def test_a_hovered_link_keeps_its_contrast(
    app_server: RunningApp, devices: dict[str, Any], seeded: None
) -> None:
    # rx.link's own hover colour is 2.4:1 on white; components/a11y.py keeps it
    # readable. The console's links are what a mouse user hovers most.
    page = devices["page_for"]("admin")
    open_screen(
        page, app_server.url, Screen("hover", "admin", "/admin", "Admin console")
    )
    link = page.get_by_role("link", name="Back to the app")
    link.hover()
    page.wait_for_timeout(200)  # any colour transition ends
    found = [
        v for v in serious(Axe().run(page).response) if v["id"] == "color-contrast"
    ]
    assert not found, describe(found)
    assert "underline" in link.evaluate("e => getComputedStyle(e).textDecorationLine")
