"""The installable app: manifest, service worker, icons; Chromium finds it
installable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import CHROMIUM
from tests.e2e.conftest import CHROMIUM_ARGS, RunningApp

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_manifest_and_worker_are_served(app_server: RunningApp) -> None:
    base = app_server.url
    manifest = httpx.get(f"{base}/manifest.json", timeout=10)
    assert manifest.status_code == 200
    data = manifest.json()
    assert data["name"] == "Switchboard" and data["display"] == "standalone"
    assert data["start_url"] == "/" and data["scope"] == "/"
    sizes = {i["sizes"] for i in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        got = httpx.get(base + icon["src"], timeout=10)
        assert got.status_code == 200 and got.content[:8] == b"\x89PNG\r\n\x1a\n"
    worker = httpx.get(f"{base}/sw.js", timeout=10)
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    assert 'addEventListener("push"' in worker.text
    assert "showNotification" in worker.text
    home = httpx.get(f"{base}/login", timeout=10, follow_redirects=True).text
    assert 'rel="manifest"' in home and 'href="/manifest.json"' in home


def test_worker_registers_and_app_is_installable(
    app_server: RunningApp, playwright: Any, tmp_path: Any
) -> None:
    # A persistent profile: default contexts are incognito, never installable.
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
    )
    try:
        page = context.new_page()
        page.goto(f"{app_server.url}/login")
        scope = page.evaluate(
            "navigator.serviceWorker.ready.then((r) => r.scope)", None
        )
        assert scope == f"{app_server.url}/"
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.json")
        assert not manifest.get("errors"), manifest.get("errors")
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
        cached = page.evaluate(
            "caches.open('switchboard-shell-v1').then((c) => c.keys())"
            ".then((keys) => keys.map((r) => new URL(r.url).pathname))"
        )
        assert "/manifest.json" in cached and "/icon-192.png" in cached
    finally:
        context.close()
