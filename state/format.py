"""Turning domain objects into the plain rows page states hold (strings only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, tzinfo
from typing import Any

from app.domain.errors import NotFound


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
