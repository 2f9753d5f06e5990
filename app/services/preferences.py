"""A person's own notification preferences: quiet hours for push (users.push_hours,
app/domain/push_hours.py) and whether relayed messages are pushed one by one or as
a digest (users.push_digest, app/services/push_digest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import Invalid
from app.domain.models import User
from app.domain.push_hours import parse_window
from app.services import audit
from app.services.access import access_user


@dataclass(frozen=True)
class Preferences:
    push_hours: str | None  # "10:00-23:00"; None: push at any time
    push_digest: bool


async def get_preferences(actor: Actor) -> Preferences:
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, actor.user_id)
    return Preferences(user.push_hours, user.push_digest)


def push_window(start: str, end: str) -> str:
    """ "10:00", "23:00" as the stored window, or Invalid with what to fix."""
    value = f"{start.strip()}-{end.strip()}"
    try:
        parse_window(value)
    except ValueError as exc:
        raise Invalid(
            "Quiet hours need a start and a different end, like 10:00 and 23:00."
        ) from exc
    return value


async def set_preferences(
    actor: Actor, *, push_hours: str | None, push_digest: bool
) -> Preferences:
    """Save the caller's own preferences (nobody sets them for someone else)."""
    if push_hours is not None:
        start, _, end = push_hours.partition("-")
        push_hours = push_window(start, end)
    async with tenant_session(actor.tenant_id) as s:
        user: User = await access_user(s, actor, actor.user_id)
        if (user.push_hours, user.push_digest) != (push_hours, push_digest):
            user.push_hours = push_hours
            user.push_digest = push_digest
            s.add(user)
            audit.record(
                s,
                actor.tenant_id,
                actor.ref,
                "user.preferences",
                f"user:{user.id}",
                {"push_hours": push_hours, "push_digest": push_digest},
            )
    return Preferences(push_hours, push_digest)
