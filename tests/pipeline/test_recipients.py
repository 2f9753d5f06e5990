"""One rule for who a ref reaches: the validator (when the action is proposed) and
the reminder (when it fires) both resolve refs through the tenant's directory, so a
disabled team member is reached by neither. The two copies used to disagree: the
validator counted disabled members, the reminder dropped them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from agents.directory import load_directory, load_everyone
from agents.policy import validate
from agents.schemas import parse_action
from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.models import Notification, Schedule, User, utcnow
from app.domain.tenant_policy import TenantPolicy
from app.services.reminders import send_reminder
from tests.conftest import Demo

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
async def sam_disabled(demo: Demo) -> AsyncIterator[Any]:
    sam = demo.user("harbor-bistro", "sam")
    await _set_disabled(sam, True)
    try:
        yield sam
    finally:
        await _set_disabled(sam, False)


async def _set_disabled(user: Any, disabled: bool) -> None:
    async with tenant_session(user.tenant_id) as s:
        row = await s.get(User, (user.tenant_id, user.id))
        assert row is not None
        row.disabled = disabled
        s.add(row)


async def test_validator_does_not_reach_a_disabled_team_member(
    demo: Demo, sam_disabled: Any
) -> None:
    maya = demo.user("harbor-bistro", "maya")
    luis = demo.user("harbor-bistro", "luis")
    actor = Actor(maya.tenant_id, maya.id, maya.role)
    async with tenant_session(maya.tenant_id) as s:
        directory = await load_directory(s, actor)
    raw = {"type": "notify", "recipients": ["team:kitchen"], "message": "Prep!"}
    proposal = validate(parse_action(raw), directory, NOW, TenantPolicy())
    assert proposal.decision == "allow"
    assert proposal.payload["recipient_user_ids"] == [str(luis.id)]


async def test_reminder_reaches_the_same_people_as_the_validator(
    demo: Demo, clean_db: None, sam_disabled: Any
) -> None:
    tid = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    at = (utcnow() + timedelta(minutes=1)).replace(microsecond=0)
    sid = uuid.uuid4()
    async with tenant_session(tid) as s:
        s.add(
            Schedule(
                tenant_id=tid,
                id=sid,
                title=f"Fryer oil {sid.hex[:6]}",
                starts_at=at,
                audience=["team:kitchen", "team:no-such-team"],
            )
        )
    assert await send_reminder(tid, sid, at) == "sent to 1"
    async with tenant_session(tid) as s:
        everyone = await load_everyone(s, tid)
        notified = (
            await s.exec(
                select(Notification.user_id).where(
                    Notification.dedupe_key == f"reminder:{sid}:{int(at.timestamp())}"
                )
            )
        ).all()
    assert list(notified) == [luis.id]
    assert everyone.reach(["team:kitchen"]) == [luis.id]
