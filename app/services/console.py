"""Reads for the admin console and the operator's tenants page, and tenant creation.

Tenant admins read their own tenant only (tenant_session + an explicit tenant filter,
row-level security behind both). The platform operator manages tenants through
platform_session and never reads tenant content: creating a tenant writes its first
admin account and nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import col, select

from app.core.db import platform_session, tenant_session
from app.core.passwords import hash_password
from app.domain.accounts import check_email, check_name, check_password, check_slug
from app.domain.actor import Actor, require_admin
from app.domain.errors import Conflict, Forbidden, NotFound
from app.domain.models import AssistantRun, AuditEvent, Team, TeamMember, Tenant, User
from app.domain.plan import check_plan
from app.domain.tenant_policy import TenantPolicy
from app.domain.timezones import parse_timezone, zone_or_utc


def require_operator(operator: Any) -> None:
    if operator is None or getattr(operator, "operator_id", None) is None:
        raise Forbidden("Only platform operators can manage organisations.")


# ------------------------------------------------------------------ chat helpers

# Tenants' time zones, per backend process: lists show local times on every load,
# and a tenant's zone practically never changes (a restart picks a change up).
_ZONES: dict[uuid.UUID, ZoneInfo] = {}


async def tenant_zone(actor: Actor) -> ZoneInfo:
    """The caller's organisation's time zone (UTC if unknown or invalid)."""
    zone = _ZONES.get(actor.tenant_id)
    if zone is None:
        async with platform_session() as s:
            name = (
                await s.exec(
                    select(Tenant.timezone).where(Tenant.id == actor.tenant_id)
                )
            ).first()
        zone = zone_or_utc(name)
        _ZONES[actor.tenant_id] = zone
    return zone


async def tenant_currency(actor: Actor) -> str:
    """The currency the caller's organisation counts in (read each time: an admin
    who changes it sees amounts in it at once)."""
    async with platform_session() as s:
        policy = (
            await s.exec(select(Tenant.policy).where(Tenant.id == actor.tenant_id))
        ).first()
    return TenantPolicy.from_dict(dict(policy or {})).currency


async def reply_models(
    actor: Actor, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Which model answered each of these messages (assistant runs, own tenant)."""
    if not message_ids:
        return {}
    async with tenant_session(actor.tenant_id) as s:
        runs = (
            await s.exec(
                select(AssistantRun).where(
                    AssistantRun.tenant_id == actor.tenant_id,
                    col(AssistantRun.message_id).in_(message_ids),
                )
            )
        ).all()
    return {r.message_id: r.model for r in runs}


# ------------------------------------------------------------------ tenant admin


@dataclass(frozen=True)
class UserRow:
    id: uuid.UUID
    name: str
    email: str
    role: str
    teams: str
    disabled: bool


@dataclass(frozen=True)
class TeamRow:
    id: uuid.UUID
    name: str
    members: str


async def list_users(actor: Actor) -> list[UserRow]:
    require_admin(actor, "see this")
    async with tenant_session(actor.tenant_id) as s:
        users = (
            await s.exec(
                select(User)
                .where(User.tenant_id == actor.tenant_id)
                .order_by(col(User.role), col(User.name))
            )
        ).all()
        links = (
            await s.exec(
                select(TeamMember.user_id, Team.name)
                .join(
                    Team,
                    (col(Team.id) == col(TeamMember.team_id))
                    & (col(Team.tenant_id) == col(TeamMember.tenant_id)),
                )
                .where(TeamMember.tenant_id == actor.tenant_id)
            )
        ).all()
    teams: dict[uuid.UUID, list[str]] = {}
    for user_id, team_name in links:
        teams.setdefault(user_id, []).append(team_name)
    return [
        UserRow(
            u.id,
            u.name,
            u.email,
            u.role,
            ", ".join(sorted(teams.get(u.id, []))),
            u.disabled,
        )
        for u in users
    ]


async def list_teams(actor: Actor) -> list[TeamRow]:
    require_admin(actor, "see this")
    async with tenant_session(actor.tenant_id) as s:
        teams = (
            await s.exec(
                select(Team)
                .where(Team.tenant_id == actor.tenant_id)
                .order_by(col(Team.name))
            )
        ).all()
        members = (
            await s.exec(
                select(TeamMember.team_id, User.name)
                .join(
                    User,
                    (col(User.id) == col(TeamMember.user_id))
                    & (col(User.tenant_id) == col(TeamMember.tenant_id)),
                )
                .where(TeamMember.tenant_id == actor.tenant_id)
            )
        ).all()
    names: dict[uuid.UUID, list[str]] = {}
    for team_id, user_name in members:
        names.setdefault(team_id, []).append(user_name)
    return [
        TeamRow(t.id, t.name, ", ".join(sorted(names.get(t.id, [])))) for t in teams
    ]


@dataclass(frozen=True)
class UsageRow:
    month: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_p50_ms: float
    latency_p95_ms: float


USAGE_SQL = text(
    """
    SELECT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM'),
           count(*),
           coalesce(sum(prompt_tokens), 0),
           coalesce(sum(completion_tokens), 0),
           coalesce(sum(cost_usd), 0),
           coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), 0),
           coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), 0)
    FROM llm_usage
    WHERE tenant_id = :tenant_id
    GROUP BY 1
    ORDER BY 1 DESC
    LIMIT :months
    """
)


async def usage_by_month(actor: Actor, months: int = 12) -> list[UsageRow]:
    """Model usage of the caller's tenant per calendar month (UTC), newest first."""
    require_admin(actor, "see this")
    async with tenant_session(actor.tenant_id) as s:
        rows = (
            await s.execute(
                USAGE_SQL, {"tenant_id": actor.tenant_id, "months": max(1, months)}
            )
        ).all()
    return [
        UsageRow(
            month=r[0],
            calls=int(r[1]),
            prompt_tokens=int(r[2]),
            completion_tokens=int(r[3]),
            cost_usd=float(r[4]),
            latency_p50_ms=float(r[5]),
            latency_p95_ms=float(r[6]),
        )
        for r in rows
    ]


# ------------------------------------------------------------------ operator


@dataclass(frozen=True)
class TenantRow:
    id: uuid.UUID
    slug: str
    name: str
    kind: str
    status: str
    created_at: datetime


async def list_tenants(operator: Any) -> list[TenantRow]:
    require_operator(operator)
    async with platform_session() as s:
        tenants = (await s.exec(select(Tenant).order_by(col(Tenant.slug)))).all()
    return [
        TenantRow(t.id, t.slug, t.name, t.kind, t.status, t.created_at) for t in tenants
    ]


async def create_tenant(
    operator: Any,
    *,
    slug: str,
    name: str,
    kind: str = "other",
    timezone: str = "UTC",
    admin_email: str,
    admin_name: str,
    admin_password: str,
) -> TenantRow:
    """A new organisation with its first administrator (who manages the rest)."""
    require_operator(operator)
    slug = check_slug(slug)
    name = check_name(name)
    admin_email = check_email(admin_email, "The administrator's email")
    check_password(admin_password)
    zone = parse_timezone(timezone.strip() or "UTC")
    async with platform_session() as s:
        taken = (await s.exec(select(Tenant.id).where(Tenant.slug == slug))).first()
        if taken is not None:
            raise Conflict("An organisation with this slug already exists.")
        tenant = Tenant(
            slug=slug,
            name=name,
            kind=(kind.strip() or "other")[:40],
            timezone=zone.key,
        )
        s.add(tenant)
    async with tenant_session(tenant.id) as s:
        admin = User(
            tenant_id=tenant.id,
            handle="admin",
            email=admin_email,
            name=admin_name.strip()[:200] or "Administrator",
            role="admin",
            password_hash=hash_password(admin_password),
        )
        s.add(admin)
        by = f"operator:{operator.operator_id}"
        s.add(
            AuditEvent(
                tenant_id=tenant.id,
                actor=by,
                kind="tenant.created",
                subject=f"tenant:{tenant.id}",
                data={"slug": slug},
            )
        )
        # The first account is a change like any other: in the log too.
        s.add(
            AuditEvent(
                tenant_id=tenant.id,
                actor=by,
                kind="user.created",
                subject=f"user:{admin.id}",
                data={"role": "admin"},
            )
        )
    return TenantRow(
        tenant.id,
        tenant.slug,
        tenant.name,
        tenant.kind,
        tenant.status,
        tenant.created_at,
    )


@dataclass(frozen=True)
class TenantDetail:
    id: uuid.UUID
    slug: str
    name: str
    status: str
    users: int
    tokens_this_month: int
    cost_this_month: float
    monthly_token_budget: int
    plan_token_budget: int | None
    plan_seats: int | None
    active_users: int


DETAIL_SQL = text(
    """
    SELECT (SELECT count(*) FROM users WHERE tenant_id = :t),
           (SELECT count(*) FROM users WHERE tenant_id = :t AND NOT disabled),
           coalesce(sum(prompt_tokens + completion_tokens), 0),
           coalesce(sum(cost_usd), 0)
    FROM llm_usage
    WHERE tenant_id = :t AND created_at >= date_trunc('month', now())
    """
)


async def tenant_details(operator: Any) -> list[TenantDetail]:
    """Every organisation with its size, this month's usage and cost, its plan and
    status: counts and sums only, never tenant content."""
    require_operator(operator)
    async with platform_session() as s:
        tenants = (await s.exec(select(Tenant).order_by(col(Tenant.slug)))).all()
    return [await _detail(t) for t in tenants]


async def _detail(t: Tenant) -> TenantDetail:
    async with tenant_session(t.id) as ts:
        users, active, tokens, cost = (await ts.execute(DETAIL_SQL, {"t": t.id})).one()
    return TenantDetail(
        t.id,
        t.slug,
        t.name,
        t.status,
        int(users),
        int(tokens),
        float(cost),
        t.monthly_token_budget,
        t.plan_token_budget,
        t.plan_seats,
        int(active),
    )


async def set_plan(
    operator: Any,
    tenant_id: uuid.UUID,
    token_budget: int | None,
    seats: int | None,
) -> TenantDetail:
    """An organisation's plan limits (None: no limit). Lowering seats below the
    accounts already active disables nobody: new accounts wait for a free seat.
    Recorded in the organisation's audit log as the operator's change."""
    require_operator(operator)
    token_budget, seats = check_plan(token_budget, seats)
    async with platform_session() as s:
        tenant = await s.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise NotFound("No such organisation.")
        before = {"token_budget": tenant.plan_token_budget, "seats": tenant.plan_seats}
        tenant.plan_token_budget, tenant.plan_seats = token_budget, seats
        s.add(tenant)
    after = {"token_budget": token_budget, "seats": seats}
    if after != before:
        async with tenant_session(tenant_id) as ts:
            ts.add(
                AuditEvent(
                    tenant_id=tenant_id,
                    actor=f"operator:{operator.operator_id}",
                    kind="tenant.plan_changed",
                    subject=f"tenant:{tenant_id}",
                    data={"from": before, "to": after},
                )
            )
    return await _detail(tenant)


async def set_tenant_status(
    operator: Any, tenant_id: uuid.UUID, suspended: bool
) -> TenantRow:
    """Suspend (no sign-in, sessions end at their next refresh, messages answered
    with a notice and not processed) or resume an organisation."""
    require_operator(operator)
    status = "suspended" if suspended else "active"
    async with platform_session() as s:
        tenant = await s.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise NotFound("No such organisation.")
        changed = tenant.status != status
        tenant.status = status
        s.add(tenant)
    if changed:
        async with tenant_session(tenant_id) as ts:
            ts.add(
                AuditEvent(
                    tenant_id=tenant_id,
                    actor=f"operator:{operator.operator_id}",
                    kind="tenant.suspended" if suspended else "tenant.resumed",
                    subject=f"tenant:{tenant_id}",
                )
            )
    return TenantRow(
        tenant.id,
        tenant.slug,
        tenant.name,
        tenant.kind,
        tenant.status,
        tenant.created_at,
    )
