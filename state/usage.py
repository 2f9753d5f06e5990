"""The console's usage tab: per-day charts, per person and per model, and the
month's budget with its projection. Admins only."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.roles import ADMIN_ROLES
from app.services import usage
from state.session import SessionState, guarded


def _share(r: usage.ShareRow) -> dict[str, str]:
    return {
        "name": r.name,
        "calls": f"{r.calls:,}",
        "tokens": f"{r.tokens:,}",
        "cost": f"${r.cost_usd:.4f}",
    }


class UsageState(SessionState):
    days: list[dict[str, Any]] = []
    by_user: list[dict[str, str]] = []
    by_model: list[dict[str, str]] = []
    used: int = 0
    budget: int = 0
    projected: int = 0
    month: str = ""

    @rx.var
    def used_pct(self) -> int:
        return min(100, round(100 * self.used / self.budget)) if self.budget else 0

    @rx.var
    def used_text(self) -> str:
        return f"{self.used:,}"

    @rx.var
    def budget_text(self) -> str:
        return f"{self.budget:,}"

    @rx.var
    def projected_text(self) -> str:
        return f"{self.projected:,}"

    @rx.var
    def over_pace(self) -> bool:
        return self.budget > 0 and self.projected > self.budget

    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_usage(self, actor: Actor) -> None:
        self.days = [
            {
                "day": d.day.strftime("%d %b"),
                "messages": d.messages,
                "tokens": d.tokens,
                "cost": round(d.cost_usd, 5),
                "p50": round(d.latency_p50_ms),
                "p95": round(d.latency_p95_ms),
            }
            for d in await usage.usage_by_day(actor)
        ]
        self.by_user = [_share(r) for r in await usage.usage_by_user(actor)]
        self.by_model = [_share(r) for r in await usage.usage_by_model(actor)]
        b = await usage.budget(actor)
        self.used, self.budget, self.projected, self.month = (
            b.used,
            b.budget,
            b.projected,
            b.month,
        )
