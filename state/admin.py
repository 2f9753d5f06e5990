"""The admin console (/admin): create and disable users, usage per month, settings.
People and teams: state/people.py; audit: state/audit.py; approvals: ApprovalsState.
Admins only (every handler checks)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actions import ACTION_TYPES
from app.domain.actor import Actor
from app.domain.errors import DomainError
from app.domain.money import DEFAULT_CURRENCY
from app.domain.roles import ADMIN_ROLES
from app.services import accounts, console, tenant_settings
from state.approvals import ApprovalsState, approval_rows
from state.audit import AuditState
from state.format import parse_id
from state.people import PeopleState
from state.session import SessionState, guarded

# The settings form offers every action type of the registry.
APPROVABLE = ACTION_TYPES


class AdminState(SessionState):
    usage: list[dict[str, str]] = []
    create_error: str = ""
    # The organisation's settings form (controlled inputs, saved together).
    approval_flags: dict[str, bool] = {}
    purchase_threshold: str = ""
    approver_role: str = "manager"
    token_budget: str = ""
    model: str = ""
    external_memory: bool = True
    currency: str = DEFAULT_CURRENCY
    settings_error: str = ""
    # The operator's plan limits, read-only here ("" when the plan has none).
    plan_note: str = ""

    # Form state only (nothing is read or saved until save_settings), guarded all
    # the same: every handler of the console is for admins.
    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_approval_flag(
        self, actor: Actor, action_type: str, value: bool
    ) -> None:
        if action_type in APPROVABLE:
            self.approval_flags = {**self.approval_flags, action_type: bool(value)}

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_purchase_threshold(self, actor: Actor, value: str) -> None:
        self.purchase_threshold = value[:20]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_approver_role(self, actor: Actor, value: str) -> None:
        self.approver_role = value[:20]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_token_budget(self, actor: Actor, value: str) -> None:
        self.token_budget = value[:20]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_model(self, actor: Actor, value: str) -> None:
        self.model = str(value).strip()[:120]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_currency(self, actor: Actor, value: str) -> None:
        self.currency = str(value)[:3]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_external_memory(self, actor: Actor, value: bool) -> None:
        self.external_memory = bool(value)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_settings(self, actor: Actor) -> Any:
        try:
            view = await tenant_settings.update_settings(
                actor,
                {
                    "approval_required": [
                        t for t in APPROVABLE if self.approval_flags.get(t)
                    ],
                    "purchase_approval_over": float(self.purchase_threshold or 0),
                    "approver_role": self.approver_role,
                    "monthly_token_budget": int(
                        self.token_budget.replace(",", "") or 0
                    ),
                    "model": self.model,
                    "external_memory": self.external_memory,
                    "currency": self.currency,
                },
            )
        except ValueError:
            self.settings_error = "Threshold and budget must be numbers."
            return None
        except DomainError as exc:
            self.settings_error = exc.message
            return None
        self.settings_error = ""
        self._show_settings(view)
        await self._load_all(actor)
        return rx.toast.success("Settings saved.")

    def _show_settings(self, view: Any) -> None:
        self.approval_flags = {t: t in view.approval_required for t in APPROVABLE}
        self.purchase_threshold = f"{view.purchase_approval_over:g}"
        self.approver_role = view.approver_role
        self.token_budget = str(view.monthly_token_budget)
        self.model = view.model
        self.external_memory = view.external_memory
        self.currency = view.currency
        limits = [
            f"{view.plan_token_budget:,} tokens a month"
            if view.plan_token_budget is not None
            else "",
            f"{view.plan_seats:,} active accounts"
            if view.plan_seats is not None
            else "",
        ]
        self.plan_note = " and ".join(x for x in limits if x)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def create_user(self, actor: Actor, form: dict[str, Any]) -> Any:
        try:
            user = await accounts.create_user(
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
    @guarded(*ADMIN_ROLES)
    async def set_disabled(self, actor: Actor, user_id: str, disabled: bool) -> Any:
        user = await accounts.set_disabled(actor, parse_id(user_id), bool(disabled))
        await self._load_all(actor)
        verb = "Disabled" if user.disabled else "Enabled"
        return rx.toast.success(f"{verb} {user.email}.")

    # The page's load: other roles get the page's "not available" view, and no
    # toast (their role is known from the same check, SessionState.role).
    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_admin(self, actor: Actor) -> None:
        await self._load_all(actor)
        approvals = await self.get_state(ApprovalsState)
        approvals.approvals = await approval_rows(actor)

    async def _load_all(self, actor: Actor) -> None:
        """Everything on the console's tabs; the audit log too, so a change shows
        there at once."""
        await (await self.get_state(AuditState))._load(actor)
        await (await self.get_state(PeopleState))._load(actor)
        self._show_settings(await tenant_settings.get_settings_for(actor))
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
