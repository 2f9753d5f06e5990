"""Tasks and alerts (notifications): the staff's work and everyone's inbox."""

from __future__ import annotations

import uuid
from collections.abc import Container, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from app.domain.actor import Actor
from app.domain.roles import STAFF_ROLES
from app.services import console, inbox, notifications, tasks
from app.services.inbox import InboxItem
from state import routes
from state.format import item_href, local, parse_id, text
from state.session import SessionState, guarded

TASK_STATUSES = tasks.STATUSES
# Alerts read to build the grouped inbox.
GROUPED_LIMIT = 200
# Rows that arrived live while the inbox is open, before it is read again in full.
FRESH_LIMIT = 50


async def task_rows(actor: Actor) -> list[dict[str, str]]:
    zone = await console.tenant_zone(actor)
    rows = await tasks.list_tasks(actor)
    names = await tasks.place_and_team_names(actor)
    return [
        {
            "id": str(t.id),
            "anchor": f"task-{t.id}",
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
        for t in rows
    ]


def alert_group(n: InboxItem) -> str:
    """Alerts about one request (task, approval) or from one sender are one row in
    the inbox: a chatty sender or a re-sent message is not a firehose."""
    data = n.data or {}
    for key in ("task_id", "approval_id"):
        if data.get(key):
            return f"{key}:{data[key]}"
    if n.kind == "notify":
        return f"from:{n.title}"
    return f"id:{n.id}"


def alert_rows(
    actor: Actor, items: list[InboxItem], zone: ZoneInfo
) -> list[dict[str, str]]:
    """The inbox, newest first, one row per group (its newest alert on top)."""
    groups: dict[str, list[InboxItem]] = {}
    for n in items:
        groups.setdefault(alert_group(n), []).append(n)
    rows = []
    for grouped in groups.values():
        n = grouped[0]
        unread = [i for i in grouped if i.read_at is None]
        rows.append(
            {
                "group": alert_group(n),
                "id": str(n.id),
                "ids": ",".join(str(i.id) for i in unread),
                "count": str(len(grouped)),
                "more": f"+{len(grouped) - 1} earlier" if len(grouped) > 1 else "",
                "kind": text(n.kind),
                "title": n.title,
                "body": n.body or "",
                "at": local(n.created_at, zone),
                "unread": "1" if unread else "",
                "unread_n": str(len(unread)),
                "href": alert_href(actor, n.kind, n.data or {}),
            }
        )
    return rows


def with_arrivals(
    fresh: Sequence[dict[str, str]],
    earlier: Sequence[dict[str, str]],
    arrived: list[dict[str, str]],
    earlier_groups: Container[str],
) -> tuple[list[dict[str, str]], list[dict[str, str]] | None]:
    """The inbox's rows after alerts arrived live (`arrived`: alert_rows of the new
    ones, newest first): each joins its group's row, which moves to the top, or
    starts one. The rows shown before stay in `earlier` (their groups:
    `earlier_groups`, so that it is searched only when it holds one), and a tab on
    the inbox is sent only the fresh rows; `earlier` comes back (None: unchanged)
    only when one of its groups got a new alert."""
    fresh = list(fresh)  # rows are never changed in place: _joined makes new ones
    rest: list[dict[str, str]] | None = None  # a copy once a row leaves `earlier`
    for row in reversed(arrived):  # oldest first: the newest ends on top
        key = row["group"]
        if (at := _find(fresh, key)) is not None:
            row = _joined(row, fresh.pop(at))
        elif key in earlier_groups:
            rest = [dict(r) for r in earlier] if rest is None else rest
            if (at := _find(rest, key)) is not None:
                row = _joined(row, rest.pop(at))
        fresh.insert(0, row)
    return fresh, rest


def _find(rows: list[dict[str, str]], group: str) -> int | None:
    return next((i for i, r in enumerate(rows) if r["group"] == group), None)


def _joined(newest: dict[str, str], row: dict[str, str]) -> dict[str, str]:
    """A group's row with a newer alert on top."""
    count = int(newest["count"]) + int(row["count"])
    unread = int(newest["unread_n"]) + int(row["unread_n"])
    return {
        **newest,
        "ids": ",".join(filter(None, (newest["ids"], row["ids"]))),
        "count": str(count),
        "more": f"+{count - 1} earlier",
        "unread": "1" if unread else "",
        "unread_n": str(unread),
    }


def alert_href(actor: Actor, kind: str, data: dict[str, Any]) -> str:
    """The item an alert is about: its task, the approvals to decide, the
    person's own requests, or the chat for a reply."""
    if data.get("task_id"):
        return item_href(actor, data["task_id"])
    if kind == "approval" and actor.can_approve:
        return routes.APPROVALS
    if kind == "approval_result":
        return routes.REQUESTS
    if kind in ("task", "schedule", "reminder") and actor.is_staff:
        return routes.TASKS
    return ""


class TasksState(SessionState):
    tasks: list[dict[str, str]] = []

    @rx.event
    @guarded(*STAFF_ROLES)
    async def load_tasks(self, actor: Actor) -> None:
        self.tasks = await task_rows(actor)

    @rx.event
    @guarded(*STAFF_ROLES)
    async def set_task_status(self, actor: Actor, task_id: str, status: str) -> Any:
        if status not in TASK_STATUSES:
            return rx.toast.error("Unknown status.")
        await tasks.update_task_status(actor, parse_id(task_id), str(status))
        self.tasks = await task_rows(actor)
        return None


class AlertsState(SessionState):
    alerts: list[dict[str, str]] = []  # as read when the page loaded
    fresh: list[dict[str, str]] = []  # arrived live since, shown above
    # The notifications the rows account for: an event for one of them (a
    # listener starting before the page's read) adds nothing.
    # Immutable on purpose: Reflex wraps a list, dict or set read in a background
    # task in a proxy, element by element as it is iterated (a tenth of an inbox
    # tab's delivery CPU); `fresh` is kept here too, for reading.
    _shown: frozenset[str] = frozenset()
    _groups: frozenset[str] = frozenset()  # of the rows in `alerts`
    _fresh: tuple[dict[str, str], ...] = ()

    async def _reload(self, actor: Actor) -> None:
        """The inbox and the unread badge, from one read."""
        mine = await inbox.inbox(actor, GROUPED_LIMIT)
        rows = alert_rows(actor, mine.items, await console.tenant_zone(actor))
        self.alerts = rows
        self.fresh = []
        self._fresh = ()
        self._shown = frozenset(str(i.id) for i in mine.items)
        self._groups = frozenset(row["group"] for row in rows)
        session = await self._session()
        session.unread = mine.unread

    async def _arrived(self, actor: Actor, ids: list[uuid.UUID]) -> None:
        """Live events named new alerts: read those (and the badge) only, and send
        the tab the fresh rows, not the whole inbox again."""
        if len(self._fresh) >= FRESH_LIMIT or len(self._shown) >= 2 * GROUPED_LIMIT:
            await self._reload(actor)
            return
        mine = await inbox.arrived(actor, ids)
        new = [i for i in mine.items if str(i.id) not in self._shown]
        if new:
            rows = alert_rows(actor, new, await console.tenant_zone(actor))
            fresh, earlier = with_arrivals(self._fresh, self.alerts, rows, self._groups)
            self.fresh, self._fresh = fresh, tuple(fresh)
            if earlier is not None:
                self.alerts = earlier
                self._groups = frozenset(row["group"] for row in earlier)
            self._shown = self._shown | {str(i.id) for i in new}
        session = await self._session()
        session.unread = mine.unread

    @rx.event
    @guarded()
    async def load_alerts(self, actor: Actor) -> None:
        await self._reload(actor)

    @rx.event
    @guarded()
    async def mark_read(self, actor: Actor, notification_id: str) -> None:
        await notifications.mark_read(actor, parse_id(notification_id))
        await self._reload(actor)

    @rx.event
    @guarded()
    async def mark_group_read(self, actor: Actor, ids: str) -> None:
        """Every unread alert of one inbox row (comma-separated ids)."""
        for one in str(ids).split(",")[:GROUPED_LIMIT]:
            if one:
                await notifications.mark_read(actor, parse_id(one))
        await self._reload(actor)

    @rx.event
    @guarded()
    async def mark_all_read(self, actor: Actor) -> None:
        await notifications.mark_all_read(actor)
        await self._reload(actor)
