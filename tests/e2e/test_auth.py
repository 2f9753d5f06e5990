"""Signing in and out in a real browser; what the browser keeps."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, RunningApp, at, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_login_logout(app_server: RunningApp, browser: Any) -> None:
    base = app_server.url
    context = browser.new_context()
    page = context.new_page()
    try:
        # Signed out: a page bounces to the sign-in form.
        page.goto(f"{base}/alerts")
        page.wait_for_url(at(base, "/login"), timeout=30_000)

        page.fill("input[name=org]", "harbor-bistro")
        page.fill("input[name=email]", "maya@harbor-bistro.example")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
        page.get_by_text("Wrong organisation, email or password.").wait_for()

        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(at(base, "/alerts"), timeout=30_000)  # back where she was
        page.get_by_text("Maya Chen").wait_for()
        page.get_by_role("link", name="Approvals").wait_for()  # a manager's nav
        stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        # The browser keeps the refresh token and the organisation, nothing else
        # of the session (no access token, no role).
        assert "sb_refresh" in stored and "sb_org" in stored
        assert "eyJ" not in stored  # no JWT

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(at(base, "/login"), timeout=30_000)
        page.wait_for_function("!localStorage.getItem('sb_refresh')")
        assert page.input_value("input[name=org]") == "harbor-bistro"
        page.goto(f"{base}/")
        page.wait_for_url(at(base, "/login"), timeout=30_000)
    finally:
        context.close()


def test_reload_keeps_the_session_and_the_draft(
    app_server: RunningApp, browser: Any
) -> None:
    base = app_server.url
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, base, "maple-court", "omar@maple-court.example")
        page.get_by_text("Omar Haddad").wait_for()
        page.fill("textarea[name=body]", "The boiler in 4B is noisy")
        page.wait_for_timeout(500)  # the draft reaches the server
        page.reload()
        page.get_by_text("Omar Haddad").wait_for()
        page.wait_for_function(
            "document.querySelector('textarea[name=body]').value"
            " === 'The boiler in 4B is noisy'"
        )
        # An employee's nav: no approvals.
        assert page.get_by_role("link", name="Approvals").count() == 0
    finally:
        context.close()


def test_operator_console(app_server: RunningApp, browser: Any) -> None:
    base = app_server.url
    email, password = "ops@switchboard.example", "e2e-operator-password"
    app_server.cli("create-operator", "--email", email, "--password", password)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{base}/operator")
        page.wait_for_url(at(base, "/operator/login"), timeout=30_000)
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        page.get_by_text("Wrong email or password.").wait_for()
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(at(base, "/operator"), timeout=30_000)
        page.get_by_text("riverside-lofts").wait_for()
        slug = f"oak-{uuid.uuid4().hex[:6]}"
        for name, value in {
            "slug": slug,
            "name": "Oak Street Flats",
            "admin_name": "Oak Admin",
            "admin_email": f"admin@{slug}.example",
            "admin_password": "oak-admin-password",
        }.items():
            page.fill(f"input[name={name}]", value)
        page.get_by_role("button", name="Create").click()
        page.get_by_role("cell", name=slug, exact=True).wait_for()
        stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        assert "op." not in stored  # operator tokens stay on the server
    finally:
        context.close()
