"""Turning domain objects into the plain rows page states hold (strings only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, tzinfo
from typing import Any

from app.domain.actor import Actor
from app.domain.errors import NotFound
from state import routes


def when(ts: datetime | None) -> str:
    """A full UTC timestamp for logs and consoles ("2026-03-02 09:00")."""
    if ts is None:
        return ""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%d %H:%M")


def local(ts: datetime | None, zone: tzinfo) -> str:
    """A short time in the organisation's zone for people ("Fri 06 Mar 22:00")."""
    if ts is None:
        return ""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(zone).strftime("%a %d %b %H:%M")


def day_label(ts: datetime | None, zone: tzinfo) -> str:
    """The day of a time in the organisation's zone ("Friday 06 March 2026")."""
    if ts is None:
        return ""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(zone).strftime("%A %d %B %Y")


def text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def parse_id(value: str) -> uuid.UUID:
    """An id the browser sent: a malformed one is "not found", like any other."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise NotFound("Not found.") from exc


def item_href(actor: Actor, task_id: object | None, kind: str = "") -> str:
    """Where a card or an alert about a request opens: the task itself for staff,
    the person's own requests otherwise."""
    if task_id and actor.is_staff:
        return f"{routes.TASKS}#task-{task_id}"
    if task_id or kind in ("waiting", "declined", "expired", "linked"):
        return routes.REQUESTS
    return ""
