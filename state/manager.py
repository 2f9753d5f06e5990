"""The console as a manager sees it: the approvals waiting for them and their
teams (read-only: people and teams are the admins' to change). Every handler
checks the role on the server; the admin-only states refuse managers."""

from __future__ import annotations

import reflex as rx

from app.domain.actor import Actor
from app.domain.roles import APPROVER_ROLES, Role
from app.services import people
from state.approvals import ApprovalsState, approval_rows
from state.session import SessionState, guarded


class ManagerState(SessionState):
    # The caller's teams as {id, name, size}, and their members as
    # [team id, name, role, "lead" or ""].
    my_teams: list[dict[str, str]] = []
    my_members: list[list[str]] = []

    # The page's load (beside AdminState.load_admin, which is quiet for managers):
    # employees and residents get the page's "not available" view and no toast.
    @rx.event
    @guarded(*APPROVER_ROLES, quiet_role=True)
    async def load_manager(self, actor: Actor) -> None:
        teams = await people.my_teams(actor)
        self.my_teams = [
            {"id": str(t.id), "name": t.name, "size": str(len(t.members))}
            for t in teams
        ]
        self.my_members = [
            [str(t.id), m.name, m.role, "lead" if m.lead else ""]
            for t in teams
            for m in t.members
        ]
        if actor.role == Role.manager.value:  # admins: load_admin did it
            approvals = await self.get_state(ApprovalsState)
            approvals.approvals = await approval_rows(actor)
