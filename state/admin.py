"""The admin console (/admin): users (list, create, disable) and teams, audit events,
usage per month. Admins only (every handler checks); its approvals tab is
ApprovalsState."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.context import Actor
from app.services import console
from app.services.errors import DomainError
from state.format import parse_id, when
from state.session import SessionState, guarded

ROLES = ("employee", "manager", "admin", "resident")


async def user_rows(actor: Actor) -> list[dict[str, str]]:
    return [
        {
            "id": str(u.id),
            "name": u.name,
            "email": u.email,
            "role": u.role,
            "teams": u.teams,
            "state": "disabled" if u.disabled else "active",
        }
        for u in await console.list_users(actor)
    ]


class AdminState(SessionState):
    users: list[dict[str, str]] = []
    teams: list[dict[str, str]] = []
    audit: list[dict[str, str]] = []
    usage: list[dict[str, str]] = []
    create_error: str = ""

    @rx.event
    @guarded("admin")
    async def create_user(self, actor: Actor, form: dict[str, Any]) -> Any:
        from app.services.accounts import create_user

        try:
            user = await create_user(
                actor,
                email=str(form.get("email", "")),
                name=str(form.get("name", "")),
                role=str(form.get("role", "") or "employee"),
                password=str(form.get("password", "")),
            )
        except DomainError as exc:
            # Shown next to the form, which keeps what was typed.
            self.create_error = exc.message
            return None
        self.create_error = ""
        await self._load_all(actor)  # the audit tab shows the change too
        return rx.toast.success(f"Created {user.email}.")

    @rx.event
    @guarded("admin")
    async def set_disabled(self, actor: Actor, user_id: str, disabled: bool) -> Any:
        from app.services.accounts import set_disabled

        user = await set_disabled(actor, parse_id(user_id), bool(disabled))
        await self._load_all(actor)
        verb = "Disabled" if user.disabled else "Enabled"
        return rx.toast.success(f"{verb} {user.email}.")

    @rx.event
    @guarded("admin")
    async def load_admin(self, actor: Actor) -> None:
        await self._load_all(actor)

    async def _load_all(self, actor: Actor) -> None:
        self.users = await user_rows(actor)
        self.teams = [
            {"name": t.name, "members": t.members}
            for t in await console.list_teams(actor)
        ]
        self.audit = [
            {
                "at": when(e.created_at),
                "actor": e.actor,
                "kind": e.kind,
                "subject": e.subject,
            }
            for e in await console.list_audit(actor)
        ]
        self.usage = [
            {
                "month": u.month,
                "calls": str(u.calls),
                "tokens": f"{u.prompt_tokens + u.completion_tokens:,}",
                "cost": f"${u.cost_usd:.4f}",
                "p50": f"{u.latency_p50_ms:.0f} ms",
                "p95": f"{u.latency_p95_ms:.0f} ms",
            }
            for u in await console.usage_by_month(actor)
        ]
