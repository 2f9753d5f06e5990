"""Usage and cost for the console, from the usage records (llm_usage: one row per
model call, priced at call time with litellm's cost map) and the messages:
per day, per person and per model, and the month's budget with a projection.

Days and months are UTC, like the budget check (app/services/turns.py).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import TextClause, text

from app.core.db import platform_session, tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.models import Tenant, utcnow
from app.domain.plan import token_limit
from app.services.turns import month_start, tokens_used_this_month

MAX_DAYS = 92


@dataclass(frozen=True)
class DayUsage:
    day: date
    messages: int
    calls: int
    tokens: int
    cost_usd: float
    latency_p50_ms: float
    latency_p95_ms: float


@dataclass(frozen=True)
class ShareRow:
    name: str
    calls: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True)
class Budget:
    used: int
    budget: int
    projected: int  # at this month's pace, by its last day
    month: str


DAYS_SQL = text(
    """
    WITH days AS (
        SELECT generate_series(CAST(:first AS date), CAST(:last AS date),
                               interval '1 day')::date AS d
    ), calls AS (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS d,
               count(*) AS calls,
               sum(prompt_tokens + completion_tokens) AS tokens,
               sum(cost_usd) AS cost,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
        FROM llm_usage
        WHERE tenant_id = :t AND created_at >= :since
        GROUP BY 1
    ), msgs AS (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n
        FROM messages
        WHERE tenant_id = :t AND created_at >= :since AND author <> 'assistant'
        GROUP BY 1
    )
    SELECT days.d, coalesce(msgs.n, 0), coalesce(calls.calls, 0),
           coalesce(calls.tokens, 0), coalesce(calls.cost, 0),
           coalesce(calls.p50, 0), coalesce(calls.p95, 0)
    FROM days
    LEFT JOIN calls ON calls.d = days.d
    LEFT JOIN msgs ON msgs.d = days.d
    ORDER BY days.d
    """
)

BY_USER_SQL = text(
    """
    SELECT coalesce(u.name, 'integrations'), count(*),
           sum(l.prompt_tokens + l.completion_tokens), sum(l.cost_usd)
    FROM llm_usage l
    LEFT JOIN messages m ON m.tenant_id = l.tenant_id AND m.id = l.message_id
    LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.sender_user_id
    WHERE l.tenant_id = :t AND l.created_at >= :since
    GROUP BY 1
    ORDER BY 3 DESC
    LIMIT 20
    """
)

BY_MODEL_SQL = text(
    """
    SELECT model, count(*), sum(prompt_tokens + completion_tokens), sum(cost_usd)
    FROM llm_usage
    WHERE tenant_id = :t AND created_at >= :since
    GROUP BY 1
    ORDER BY 3 DESC
    LIMIT 20
    """
)


async def usage_by_day(actor: Actor, days: int = 30) -> list[DayUsage]:
    """The last `days` days (today included), one row per day, empty days too."""
    require_admin(actor, "see usage")
    days = max(1, min(days, MAX_DAYS))
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(0), UTC)
    async with tenant_session(actor.tenant_id) as s:
        rows = (
            await s.execute(
                DAYS_SQL,
                {"t": actor.tenant_id, "first": first, "last": today, "since": since},
            )
        ).all()
    return [
        DayUsage(
            r[0], int(r[1]), int(r[2]), int(r[3]), float(r[4]), float(r[5]), float(r[6])
        )
        for r in rows
    ]


async def _shares(actor: Actor, sql: TextClause) -> list[ShareRow]:
    require_admin(actor, "see usage")
    async with tenant_session(actor.tenant_id) as s:
        rows = (
            await s.execute(sql, {"t": actor.tenant_id, "since": month_start(utcnow())})
        ).all()
    return [
        ShareRow(str(r[0]), int(r[1]), int(r[2] or 0), float(r[3] or 0)) for r in rows
    ]


async def usage_by_user(actor: Actor) -> list[ShareRow]:
    """This month's usage per person who sent the messages (top 20)."""
    return await _shares(actor, BY_USER_SQL)


async def usage_by_model(actor: Actor) -> list[ShareRow]:
    """This month's usage per model (top 20)."""
    return await _shares(actor, BY_MODEL_SQL)


def project(used: int, now: datetime) -> int:
    """This month's tokens at the pace so far, by the month's last moment."""
    start = month_start(now)
    days = calendar.monthrange(start.year, start.month)[1]
    elapsed = (now - start).total_seconds()
    if elapsed <= 0:
        return used
    return int(used * (days * 86_400) / elapsed)


async def budget(actor: Actor) -> Budget:
    require_admin(actor, "see usage")
    async with platform_session() as ps:
        tenant = await ps.get(Tenant, actor.tenant_id)
    async with tenant_session(actor.tenant_id) as s:
        used = await tokens_used_this_month(s)
    now = utcnow()
    return Budget(
        used,
        token_limit(tenant.monthly_token_budget, tenant.plan_token_budget).tokens
        if tenant
        else 0,
        project(used, now),
        month_start(now).strftime("%Y-%m"),
    )
