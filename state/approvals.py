"""Pending approvals: managers and admins approve or reject what the assistant
proposed (purchases over the threshold, notices to everyone...)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.roles import APPROVER_ROLES
from app.services import approvals, console
from state.format import local, parse_id, text
from state.session import SessionState, guarded


async def approval_rows(actor: Actor) -> list[dict[str, str]]:
    zone = await console.tenant_zone(actor)
    return [
        {
            "id": str(a.id),
            "summary": a.summary,
            "required_role": text(a.required_role),
            "status": text(a.status),
            "expires": local(a.expires_at, zone),
        }
        for a in await approvals.list_pending(actor)
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
