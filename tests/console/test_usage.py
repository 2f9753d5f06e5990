"""Usage and cost per day, per person, per model, and the budget projection, from
real usage rows on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import Forbidden
from app.domain.models import Conversation, LlmUsage, Message, utcnow
from app.services import usage

pytestmark = pytest.mark.usefixtures("clean_db")


def actor_of(user: Any) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)


async def test_per_day_per_user_per_model_and_budget(demo: Any) -> None:
    luis = demo.user("harbor-bistro", "luis")
    tid = luis.tenant_id
    now = utcnow()
    async with tenant_session(tid) as s:
        conv = Conversation(tenant_id=tid, user_id=luis.id)
        s.add(conv)
        await s.flush()
        msg = Message(
            tenant_id=tid,
            conversation_id=conv.id,
            sender_user_id=luis.id,
            sender_key=f"user:{luis.id}",
            client_message_id="usage-1",
            body="hello there",
        )
        s.add(msg)
        await s.flush()
        for model, tokens, latency, when in (
            ("openai/gpt-4o-mini", 1000, 100, now),
            ("openai/gpt-4o-mini", 500, 300, now),
            ("switchboard/offline", 200, 10, now - timedelta(days=2)),
        ):
            s.add(
                LlmUsage(
                    tenant_id=tid,
                    message_id=msg.id,
                    model=model,
                    prompt_tokens=tokens,
                    completion_tokens=0,
                    cost_usd=tokens / 1e6,
                    latency_ms=latency,
                    created_at=when,
                )
            )
    admin = actor_of(demo.user("harbor-bistro", "admin"))
    days = await usage.usage_by_day(admin, days=7)
    assert len(days) == 7 and days[-1].day == now.date()
    today, two_ago = days[-1], days[-3]
    assert (today.calls, today.tokens, today.messages) == (2, 1500, 1)
    assert today.latency_p50_ms == 200 and 280 <= today.latency_p95_ms <= 300
    assert abs(today.cost_usd - 0.0015) < 1e-9
    assert (two_ago.calls, two_ago.tokens) == (1, 200)
    assert sum(d.calls for d in days) == 3

    by_model = {r.name: r for r in await usage.usage_by_model(admin)}
    assert by_model["openai/gpt-4o-mini"].tokens == 1500
    by_user = await usage.usage_by_user(admin)
    assert by_user[0].name == "Luis Ortega"

    b = await usage.budget(admin)
    assert b.used >= 1500 and b.budget > 0 and b.projected >= b.used

    other = actor_of(demo.user("maple-court", "admin"))
    assert sum(d.calls for d in await usage.usage_by_day(other)) == 0
    with pytest.raises(Forbidden):
        await usage.usage_by_day(actor_of(luis))


def test_projection_follows_the_months_pace() -> None:
    # Ten days into a 30-day month with 1,000 tokens: 3,000 by the end.
    now = datetime(2026, 11, 11, tzinfo=UTC)
    assert usage.project(1000, now) == 3000
    assert usage.project(0, now) == 0
    assert usage.project(500, datetime(2026, 11, 1, tzinfo=UTC)) == 500
