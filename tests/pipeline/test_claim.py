"""The claim: one statement marks a message processing and reads what the turn
needs before its retrieval (the tenant, the sender as the database has them now,
the tenant's tokens this month), under the message's tenant only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import LlmUsage, Message, User, utcnow
from app.domain.roles import INTEGRATION_ROLE
from app.services import turns
from app.services.messages import submit_event, submit_message
from tests.pipeline.conftest import actor_of

pytestmark = pytest.mark.usefixtures("clean_db")


async def _usage(tenant_id: uuid.UUID, tokens: int, days_ago: int = 0) -> None:
    async with tenant_session(tenant_id) as s:
        s.add(
            LlmUsage(
                tenant_id=tenant_id,
                model="m",
                prompt_tokens=tokens,
                created_at=utcnow() - timedelta(days=days_ago),
            )
        )


async def _disable(who: Any, disabled: bool) -> None:
    async with tenant_session(who.tenant_id) as s:
        user = (await s.exec(select(User).where(User.id == who.id))).one()
        user.disabled = disabled
        s.add(user)


async def test_the_claim_reads_the_sender_and_the_months_tokens(demo: Any) -> None:
    dana = demo.user("maple-court", "dana")
    tenant = dana.tenant_id
    await _usage(tenant, 120)
    # Another tenant's tokens and another month's are not this tenant's month.
    await _usage(demo.tenant("harbor-bistro").id, 5_000)
    await _usage(tenant, 7_000, days_ago=40)
    sent = await submit_message(actor_of(dana), "Who is on call?", "c-1")

    claimed = await turns._claim(tenant, sent.message_id)

    assert claimed is not None
    assert claimed.message.id == sent.message_id
    assert claimed.message.status == "processing" and claimed.message.attempts == 1
    assert claimed.tenant.id == tenant
    assert claimed.sender is not None
    assert (claimed.sender.id, claimed.sender.role) == (dana.id, "manager")
    assert claimed.sender.disabled is False
    assert claimed.month_tokens == 120
    assert turns._actor_for(tenant, claimed.sender).role == "manager"


async def test_a_sender_disabled_after_sending_acts_with_least_power(
    demo: Any,
) -> None:
    dana = demo.user("maple-court", "dana")
    sent = await submit_message(actor_of(dana), "Remind the team", "c-2")
    await _disable(dana, True)
    try:
        claimed = await turns._claim(dana.tenant_id, sent.message_id)
    finally:
        # The demo users outlive a test (clean_db keeps them).
        await _disable(dana, False)

    assert claimed is not None and claimed.sender is not None
    assert claimed.sender.disabled is True
    assert claimed.month_tokens == 0
    actor = turns._actor_for(dana.tenant_id, claimed.sender)
    assert actor.role == INTEGRATION_ROLE


async def test_an_integrations_message_has_no_sender(demo: Any) -> None:
    tenant = demo.tenant("maple-court").id
    sent = await submit_event(tenant, uuid.uuid4(), "Leak sensor 4B wet", "e-1")

    claimed = await turns._claim(tenant, sent.message_id)

    assert claimed is not None and claimed.sender is None
    assert turns._actor_for(tenant, None).role == INTEGRATION_ROLE


async def test_a_message_out_of_attempts_is_not_claimed(demo: Any) -> None:
    dana = demo.user("maple-court", "dana")
    sent = await submit_message(actor_of(dana), "Who is on call?", "c-3")
    async with tenant_session(dana.tenant_id) as s:
        msg = await s.get(Message, (dana.tenant_id, sent.message_id))
        assert msg is not None
        msg.attempts = turns.MAX_ATTEMPTS
        s.add(msg)

    assert await turns._claim(dana.tenant_id, sent.message_id) is None

    async with tenant_session(dana.tenant_id) as s:
        msg = await s.get(Message, (dana.tenant_id, sent.message_id))
    assert msg is not None and msg.status == "failed"


async def test_another_tenants_message_is_not_claimed(demo: Any) -> None:
    dana = demo.user("maple-court", "dana")
    sent = await submit_message(actor_of(dana), "Who is on call?", "c-4")
    other = demo.tenant("harbor-bistro").id

    assert await turns._claim(other, sent.message_id) is None
    async with tenant_session(dana.tenant_id) as s:
        msg = await s.get(Message, (dana.tenant_id, sent.message_id))
    assert msg is not None and msg.attempts == 0
