"""Settings: the signed-in person's own notification preferences."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.services import preferences
from app.services.push_digest import DIGEST_EVERY
from state.session import SessionState, guarded

# What the form starts with when no quiet hours are set yet.
DEFAULT_FROM, DEFAULT_UNTIL = "08:00", "22:00"
IMMEDIATE, DIGEST = "immediate", "digest"
DIGEST_MINUTES = int(DIGEST_EVERY.total_seconds() // 60)


class SettingsState(SessionState):
    quiet_hours: bool = False
    push_from: str = DEFAULT_FROM
    push_until: str = DEFAULT_UNTIL
    delivery: str = IMMEDIATE

    def _show(self, prefs: preferences.Preferences) -> None:
        self.quiet_hours = prefs.push_hours is not None
        if prefs.push_hours:
            self.push_from, _, self.push_until = prefs.push_hours.partition("-")
        self.delivery = DIGEST if prefs.push_digest else IMMEDIATE

    @rx.event
    @guarded()
    async def load_settings(self, actor: Actor) -> None:
        self._show(await preferences.get_preferences(actor))

    @rx.event
    def set_quiet_hours(self, value: bool) -> None:
        self.quiet_hours = bool(value)

    @rx.event
    def set_push_from(self, value: str) -> None:
        self.push_from = str(value)[:5]

    @rx.event
    def set_push_until(self, value: str) -> None:
        self.push_until = str(value)[:5]

    @rx.event
    def set_delivery(self, value: str) -> None:
        self.delivery = DIGEST if value == DIGEST else IMMEDIATE

    @rx.event
    @guarded()
    async def save_settings(self, actor: Actor) -> Any:
        hours = f"{self.push_from}-{self.push_until}" if self.quiet_hours else None
        self._show(
            await preferences.set_preferences(
                actor, push_hours=hours, push_digest=self.delivery == DIGEST
            )
        )
        return rx.toast.success("Notification settings saved.")
