"""Tasks and alerts (notifications): the staff's work and everyone's inbox."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.context import STAFF_ROLES, Actor
from app.services import console
from state.format import local, parse_id, text
from state.session import SessionState, guarded

TASK_STATUSES = ("open", "in_progress", "done", "cancelled")


async def task_rows(actor: Actor) -> list[dict[str, str]]:
    from app.services.tasks import list_tasks

    zone = await console.tenant_zone(actor)
    tasks = await list_tasks(actor)
    names = await _place_and_team_names(actor)
    return [
        {
            "id": str(t.id),
            "title": t.title,
            "details": t.details if t.details and t.details != t.title + "." else "",
            "status": text(t.status),
            "priority": text(t.priority),
            "due": local(t.due_at, zone),
            # "Maple Court · 4B · Maintenance": where and for whom, at a glance.
            "where": " · ".join(
                names[i]
                for i in (t.property_id, t.unit_id, t.assignee_team_id)
                if i is not None and i in names
            ),
        }
        for t in tasks
    ]


async def _place_and_team_names(actor: Actor) -> dict[Any, str]:
    """Names of the caller's tenant's properties, units and teams, by id."""
    from sqlmodel import select

    from app.db import tenant_session
    from app.models import Property, Team, Unit

    async with tenant_session(actor.tenant_id) as s:
        props = (await s.exec(select(Property.id, Property.name))).all()
        units = (await s.exec(select(Unit.id, Unit.label))).all()
        teams = (await s.exec(select(Team.id, Team.name))).all()
    return {i: str(n) for i, n in (*props, *units, *teams)}


async def alert_rows(actor: Actor) -> list[dict[str, str]]:
    from app.services.notifications import list_notifications

    zone = await console.tenant_zone(actor)
    return [
        {
            "id": str(n.id),
            "kind": text(n.kind),
            "title": n.title,
            "body": n.body or "",
            "at": local(n.created_at, zone),
            "unread": "" if n.read_at else "1",
        }
        for n in await list_notifications(actor)
    ]


class TasksState(SessionState):
    tasks: list[dict[str, str]] = []

    @rx.event
    @guarded(*STAFF_ROLES)
    async def load_tasks(self, actor: Actor) -> None:
        self.tasks = await task_rows(actor)

    @rx.event
    @guarded(*STAFF_ROLES)
    async def set_task_status(self, actor: Actor, task_id: str, status: str) -> Any:
        from app.services.tasks import update_status

        if status not in TASK_STATUSES:
            return rx.toast.error("Unknown status.")
        await update_status(actor, parse_id(task_id), str(status))
        self.tasks = await task_rows(actor)
        return None


class AlertsState(SessionState):
    alerts: list[dict[str, str]] = []

    @rx.var
    def unread_count(self) -> int:
        return sum(1 for a in self.alerts if a["unread"])

    @rx.event
    @guarded()
    async def load_alerts(self, actor: Actor) -> None:
        self.alerts = await alert_rows(actor)
        await self._refresh_unread(actor)

    @rx.event
    @guarded()
    async def mark_read(self, actor: Actor, notification_id: str) -> None:
        from app.services.notifications import mark_read

        await mark_read(actor, parse_id(notification_id))
        self.alerts = await alert_rows(actor)
        await self._refresh_unread(actor)

    @rx.event
    @guarded()
    async def mark_all_read(self, actor: Actor) -> None:
        from app.services.notifications import mark_all_read

        await mark_all_read(actor)
        self.alerts = await alert_rows(actor)
        await self._refresh_unread(actor)
