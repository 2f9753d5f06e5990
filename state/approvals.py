"""Pending approvals: managers and admins approve or reject what the assistant
proposed (purchases over the threshold, notices to everyone...)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.money import format_money
from app.domain.roles import APPROVER_ROLES
from app.services import approvals, console
from state.format import local, parse_id, text
from state.session import SessionState, guarded


def _amount(payload: dict[str, Any], currency: str) -> str:
    cost = payload.get("cost")
    if isinstance(cost, bool) or not isinstance(cost, int | float):
        return ""
    return format_money(float(cost), currency)


async def approval_rows(actor: Actor) -> list[dict[str, str]]:
    zone = await console.tenant_zone(actor)
    currency = await console.tenant_currency(actor)
    return [
        {
            "id": str(p.approval.id),
            "summary": p.approval.summary,
            "required_role": text(p.approval.required_role),
            "status": text(p.approval.status),
            "expires": local(p.approval.expires_at, zone),
            "requester": p.requester,
            "asked_at": local(p.approval.created_at, zone),
            "message": p.message,
            "amount": _amount(p.payload, currency),
        }
        for p in await approvals.list_pending_detailed(actor)
    ]


class ApprovalsState(SessionState):
    approvals: list[dict[str, str]] = []

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def load_approvals(self, actor: Actor) -> None:
        self.approvals = await approval_rows(actor)

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def decide(self, actor: Actor, approval_id: str, approve: bool) -> Any:
        await approvals.decide(actor, parse_id(approval_id), bool(approve))
        self.approvals = await approval_rows(actor)
        return rx.toast.success("Approved." if approve else "Rejected.")
