"""Settings: a person's own push hours and digest choice, saved and read back;
a malformed window is refused with what to fix, and nothing changes."""

from __future__ import annotations

from app.domain.actor import Actor
from app.services.preferences import get_preferences
from state.settings import DIGEST, IMMEDIATE, SettingsState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, sign_in, toast


def _actor(demo: Demo, slug: str, handle: str) -> Actor:
    user = demo.user(slug, handle)
    return Actor(user.tenant_id, user.id, user.role)


async def test_seeded_push_hours_show_and_changes_are_saved(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "priya")
    settings = await tab.get_state(SettingsState)
    await call(settings, "load_settings")
    # The seed: "Priya prefers push only between 10am and 11pm".
    assert (settings.quiet_hours, settings.push_from, settings.push_until) == (
        True,
        "10:00",
        "23:00",
    )
    assert settings.delivery == IMMEDIATE
    try:
        await call(settings, "set_push_from", "09:30")
        await call(settings, "set_delivery", DIGEST)
        assert "success" in toast(await call(settings, "save_settings"))
        prefs = await get_preferences(_actor(demo, "harbor-bistro", "priya"))
        assert (prefs.push_hours, prefs.push_digest) == ("09:30-23:00", True)
        # Nobody else's preferences changed.
        maya = await get_preferences(_actor(demo, "harbor-bistro", "maya"))
        assert (maya.push_hours, maya.push_digest) == (None, False)

        await call(settings, "set_push_until", "09:30")
        result = await call(settings, "save_settings")
        assert "different end" in toast(result) and "error" in toast(result)
        prefs = await get_preferences(_actor(demo, "harbor-bistro", "priya"))
        assert prefs.push_hours == "09:30-23:00"

        await call(settings, "set_quiet_hours", False)
        await call(settings, "save_settings")
        prefs = await get_preferences(_actor(demo, "harbor-bistro", "priya"))
        assert prefs.push_hours is None
    finally:
        await call(settings, "set_quiet_hours", True)
        await call(settings, "set_push_from", "10:00")
        await call(settings, "set_push_until", "23:00")
        await call(settings, "set_delivery", IMMEDIATE)
        await call(settings, "save_settings")
