"""Integration events through the offline model, and approval expiry by the
sweeper."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.domain.models import (
    Approval,
    Message,
    Notification,
    ProposedAction,
    Task,
    utcnow,
)
from app.services.messages import submit_event
from tests.pipeline.conftest import ScriptedModel, wait_done
from tests.pipeline.test_message_flow import rows, send

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_integration_event_enters_the_same_pipeline(
    demo: Any, worker: Any
) -> None:
    tenant = demo.tenant("harbor-bistro")
    sent = await submit_event(
        tenant.id,
        uuid.uuid4(),
        "GreenFarm: produce delivery arriving tomorrow at 7am, 12 crates.",
        "greenfarm-4711",
    )
    msg = await wait_done(tenant.id, sent.message_id)
    assert msg.status == "done" and msg.author == "event"
    notes = await rows(tenant.id, Notification)
    assert {n.user_id for n in notes} == {demo.user("harbor-bistro", "maya").id}
    (task,) = await rows(tenant.id, Task)
    assert "delivery" in task.title.lower()
    assert task.due_at is not None and task.due_at > utcnow()
    # A re-post of the same event (same client id) is the same message.
    again = await submit_event(
        tenant.id, uuid.uuid4(), "GreenFarm: produce delivery", "greenfarm-4711"
    )
    assert again.message_id != sent.message_id  # another key is another sender
    # ...but the same key and id is deduplicated:
    key = uuid.uuid4()
    a = await submit_event(tenant.id, key, "Delivery late by 1 hour", "gf-1")
    b = await submit_event(tenant.id, key, "Delivery late by 1 hour", "gf-1")
    assert a.message_id == b.message_id and not b.created


async def test_pending_approval_expires_and_the_requester_is_told(
    demo: Any, worker: Any, scripted_model: ScriptedModel, owner_engine: Any
) -> None:
    from jobs.tasks import sweep

    grace = demo.user("maple-court", "grace")
    scripted_model.say(
        {
            "reply": "Asking.",
            "actions": [
                {
                    "type": "cancel_service",
                    "property": "maple-court-12",
                    "service": "Hallway cleaning",
                }
            ],
        }
    )
    mid = await send(grace, "Cancel hallway cleaning")
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE approvals SET expires_at = :t"),
            {"t": utcnow() - timedelta(minutes=1)},
        )
    counts = await sweep({})
    # The worker's own cron sweep (every 15 s) may get there first: then ours finds
    # nothing, and the expiry it committed is what we check, told exactly once.
    assert counts["expired"] in (0, 1)
    for _ in range(100):
        (approval,) = await rows(grace.tenant_id, Approval)
        if approval.status == "expired":
            break
        await asyncio.sleep(0.05)
    assert approval.status == "expired"
    (action,) = await rows(grace.tenant_id, ProposedAction, message_id=mid)
    assert action.status == "expired"
    told = await rows(grace.tenant_id, Notification, user_id=grace.id)
    assert [n.title for n in told] == [
        "Your request expired without a decision: " + approval.summary
    ]
    # ...in their chat too.
    notes = await rows(grace.tenant_id, Message, author="assistant", reply_to_id=None)
    assert [m.body for m in notes] == [told[0].title]
