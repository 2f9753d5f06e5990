"""The console's integrations tab: API keys (created and shown once, listed with
their last use, revoked). Admins only."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.errors import DomainError
from app.domain.roles import ADMIN_ROLES
from app.services import api_keys, console
from state.format import local, parse_id
from state.session import SessionState, guarded


class IntegrationsState(SessionState):
    keys: list[dict[str, str]] = []
    new_name: str = ""
    # The new key's secret: shown once, gone on the next load or dismiss.
    created_secret: str = ""
    key_error: str = ""

    async def _load(self, actor: Actor) -> None:
        zone = await console.tenant_zone(actor)
        self.keys = [
            {
                "id": str(k.id),
                "name": k.name,
                "prefix": k.prefix,
                "created": local(k.created_at, zone),
                "last_used": local(k.last_used_at, zone) or "never",
                "state": "revoked" if k.revoked_at else "active",
            }
            for k in await api_keys.list_api_keys(actor)
        ]

    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_keys(self, actor: Actor) -> None:
        self.created_secret = ""
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_new_name(self, actor: Actor, value: str) -> None:
        self.new_name = str(value)[:100]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def create_key(self, actor: Actor) -> Any:
        try:
            created = await api_keys.create_api_key(actor, self.new_name)
        except DomainError as exc:
            self.key_error = exc.message
            return None
        self.created_secret, self.new_name, self.key_error = created.plaintext, "", ""
        await self._load(actor)
        return None

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def dismiss_secret(self, actor: Actor) -> None:
        self.created_secret = ""

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def revoke_key(self, actor: Actor, key_id: str) -> Any:
        key = await api_keys.revoke_api_key(actor, parse_id(key_id))
        await self._load(actor)
        return rx.toast.success(f"Revoked {key.name}.")
