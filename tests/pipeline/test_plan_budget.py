"""The plan's token budget: past it the assistant spends nothing, and the sender
and the admins are told it is the plan's limit (not a silent failure)."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.db import platform_session
from app.core.tokens import OperatorActor
from app.domain.models import AuditEvent, LlmUsage, Message, Notification, Tenant, User
from app.services import console
from tests.pipeline.conftest import ScriptedModel
from tests.pipeline.test_message_flow import reply_to, rows, send

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_a_tenant_over_its_plan_budget_is_told_so(
    demo: Any,
    worker: Any,
    scripted_model: ScriptedModel,
    plan_op: OperatorActor,
    plan_org: tuple[Tenant, User],
) -> None:
    tenant, admin = plan_org
    # The organisation's own budget is generous; the plan allows nothing.
    await console.set_plan(plan_op, tenant.id, 0, None)
    async with platform_session() as ps:
        row = await ps.get(Tenant, tenant.id)
        assert row is not None and row.monthly_token_budget > 0
    mid = await send(admin, "Remind me to water the plants")
    assert scripted_model.calls == []
    assert await rows(tenant.id, LlmUsage) == []
    reply = await reply_to(tenant.id, mid)
    assert "its plan allows" in reply
    [msg] = await rows(tenant.id, Message, id=mid)
    assert (msg.status, msg.error) == ("done", "budget_exceeded")
    [told] = await rows(tenant.id, Notification, user_id=admin.id)
    assert "plan allows" in told.body and "operator" in told.body
    [stop] = await rows(tenant.id, AuditEvent, kind="budget.exceeded")
    assert stop.data == {"limit": "plan", "tokens": 0}

    # Raised by the operator: the next message is answered by the model.
    await console.set_plan(plan_op, tenant.id, 1_000_000, None)
    scripted_model.say({"reply": "Noted.", "actions": []})
    mid = await send(admin, "Remind me to water the plants")
    assert await reply_to(tenant.id, mid) == "Noted."
