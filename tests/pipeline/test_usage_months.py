"""The month's token total that the budget check reads (llm_usage_months) is kept
by a trigger on llm_usage: it equals the sum of the month's usage records, per
tenant and per calendar month, under row-level security."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from app.core.db import tenant_session
from app.domain.models import LlmUsage, LlmUsageMonth, utcnow
from app.services.turns import month_start, tokens_used_this_month

pytestmark = pytest.mark.usefixtures("clean_db")


async def _summed(tenant_id: uuid.UUID) -> int:
    async with tenant_session(tenant_id) as s:
        total = (
            await s.exec(
                select(
                    func.coalesce(
                        func.sum(LlmUsage.prompt_tokens + LlmUsage.completion_tokens),
                        0,
                    )
                ).where(col(LlmUsage.created_at) >= month_start(utcnow()))
            )
        ).one()
    return int(total)


async def test_the_month_total_follows_every_usage_record(demo: Any) -> None:
    a = demo.tenant("maple-court").id
    b = demo.tenant("riverside-lofts").id
    last_month = month_start(utcnow()) - timedelta(days=3)
    async with tenant_session(a) as s:
        assert await tokens_used_this_month(s) == 0
        s.add_all(
            [
                LlmUsage(
                    tenant_id=a, model="m", prompt_tokens=100, completion_tokens=7
                ),
                LlmUsage(tenant_id=a, model="m", prompt_tokens=50, completion_tokens=0),
                # Last month's usage counts towards last month only.
                LlmUsage(
                    tenant_id=a,
                    model="m",
                    prompt_tokens=9_000,
                    completion_tokens=1,
                    created_at=last_month,
                ),
            ]
        )
    async with tenant_session(b) as s:
        s.add(LlmUsage(tenant_id=b, model="m", prompt_tokens=40, completion_tokens=2))
    async with tenant_session(a) as s:
        assert await tokens_used_this_month(s) == 157 == await _summed(a)
        months = (await s.exec(select(LlmUsageMonth))).all()
    # Row-level security: tenant A's session sees only A's months.
    assert {(m.tenant_id, m.tokens) for m in months} == {(a, 157), (a, 9_001)}
    async with tenant_session(b) as s:
        assert await tokens_used_this_month(s) == 42 == await _summed(b)


async def test_a_rolled_back_turn_counts_nothing(demo: Any) -> None:
    a = demo.tenant("maple-court").id
    with pytest.raises(RuntimeError):
        async with tenant_session(a) as s:
            s.add(LlmUsage(tenant_id=a, model="m", prompt_tokens=10))
            await s.flush()
            raise RuntimeError("turn failed after its usage was written")
    async with tenant_session(a) as s:
        assert await tokens_used_this_month(s) == 0
