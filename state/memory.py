"""The console's memory tab: browse by scope and source, add, edit, forget.
Admins only: every handler checks."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.errors import DomainError
from app.domain.roles import ADMIN_ROLES
from app.services import console, memory_console
from state.format import local, parse_id
from state.session import SessionState, guarded

ANY = "any"
SCOPE_LABELS = {"tenant": "Organisation", "team": "Team", "user": "One person"}
SOURCE_LABELS = memory_console.SOURCES


class MemoryState(SessionState):
    memories: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    f_scope: str = ANY
    f_source: str = ANY
    query: str = ""
    team_choices: list[list[str]] = []
    # The add form.
    new_scope: str = "tenant"
    new_team: str = ""
    new_email: str = ""
    new_text: str = ""
    add_error: str = ""
    # The edit dialog.
    edit_open: bool = False
    edit_id: str = ""
    edit_text: str = ""
    edit_error: str = ""

    async def _load(self, actor: Actor) -> None:
        zone = await console.tenant_zone(actor)
        found = await memory_console.list_memories(
            actor,
            scope="" if self.f_scope == ANY else self.f_scope,
            source="" if self.f_source == ANY else self.f_source,
            query=self.query,
            page=self.page,
        )
        self.total, self.page, self.pages = found.total, found.page, found.pages
        self.memories = [
            {
                "id": str(m.id),
                "scope": SCOPE_LABELS.get(m.scope, m.scope),
                "about": m.about,
                "source": m.source,
                "text": m.text,
                "at": local(m.created_at, zone),
                "embedded": "" if m.embedded else "not embedded yet",
            }
            for m in found.memories
        ]

    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_memory(self, actor: Actor) -> None:
        teams = await console.list_teams(actor)
        self.team_choices = [[str(t.id), t.name] for t in teams]
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_filter(self, actor: Actor, name: str, value: str) -> None:
        if name == "scope":
            self.f_scope = value if value in SCOPE_LABELS else ANY
        elif name == "source":
            self.f_source = value if value in SOURCE_LABELS else ANY
        elif name == "query":
            self.query = str(value)[:100]
        self.page = 1
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def go_page(self, actor: Actor, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_new(self, actor: Actor, name: str, value: str) -> None:
        value = str(value)
        if name == "scope" and value in SCOPE_LABELS:
            self.new_scope = value
        elif name == "team":
            self.new_team = value[:40]
        elif name == "email":
            self.new_email = value[:254]
        elif name == "text":
            self.new_text = value[:2000]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def add(self, actor: Actor) -> Any:
        try:
            await memory_console.add_memory(
                actor,
                scope=self.new_scope,
                text=self.new_text,
                team_id=parse_id(self.new_team) if self.new_scope == "team" else None,
                user_email=self.new_email,
            )
        except DomainError as exc:
            self.add_error = exc.message
            return None
        self.add_error, self.new_text = "", ""
        await self._load(actor)
        return rx.toast.success("Remembered.")

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def open_edit(self, actor: Actor, memory_id: str) -> None:
        self.edit_text = await memory_console.memory_text(actor, parse_id(memory_id))
        self.edit_id, self.edit_error, self.edit_open = memory_id, "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def close_edit(self, actor: Actor) -> None:
        self.edit_open = False

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_edit_text(self, actor: Actor, value: str) -> None:
        self.edit_text = str(value)[:2000]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_edit(self, actor: Actor) -> Any:
        try:
            await memory_console.edit_memory(
                actor, parse_id(self.edit_id), self.edit_text
            )
        except DomainError as exc:
            self.edit_error = exc.message
            return None
        self.edit_open = False
        await self._load(actor)
        return rx.toast.success("Memory updated.")

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def forget(self, actor: Actor, memory_id: str) -> Any:
        await memory_console.forget_memory(actor, parse_id(memory_id))
        await self._load(actor)
        return rx.toast.success("Forgotten.")
