"""An organisation's own settings, edited by its admins: the assistant policy
(which actions need approval, the purchase threshold, the approving role), the
monthly token budget, the model, the data policy (memory content to external
providers or not) and the currency its amounts are in. Read by agents/policy.py
and the budget check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.model import is_known_model
from app.core.db import platform_session, tenant_session
from app.domain.actions import ACTION_TYPES
from app.domain.actor import Actor
from app.domain.errors import Forbidden, Invalid, NotFound
from app.domain.models import Tenant
from app.domain.money import CURRENCIES, DEFAULT_CURRENCY
from app.domain.plan import budget_above_plan
from app.domain.roles import APPROVER_ROLES
from app.domain.tenant_policy import MODEL_HELP, TenantPolicy
from app.services import audit

MAX_BUDGET = 10_000_000_000


@dataclass(frozen=True)
class TenantSettings:
    approval_required: list[str]
    purchase_approval_over: float
    approver_role: str
    monthly_token_budget: int
    model: str = ""  # "" = the platform's model
    external_memory: bool = True
    currency: str = DEFAULT_CURRENCY
    # The operator's plan limits (read-only here; None: no limit).
    plan_token_budget: int | None = None
    plan_seats: int | None = None


def _view(tenant: Tenant) -> TenantSettings:
    policy = TenantPolicy.from_dict(tenant.policy)
    return TenantSettings(
        sorted(policy.approval_required),
        policy.purchase_approval_over,
        policy.approver_role,
        tenant.monthly_token_budget,
        policy.model,
        policy.external_memory,
        policy.currency,
        tenant.plan_token_budget,
        tenant.plan_seats,
    )


async def _own_tenant(actor: Actor) -> Tenant:
    if not actor.is_admin:
        raise Forbidden("Only admins can change the organisation's settings.")
    async with platform_session() as s:
        tenant = await s.get(Tenant, actor.tenant_id)
    if tenant is None:
        raise NotFound("No such organisation.")
    return tenant


async def get_settings_for(actor: Actor) -> TenantSettings:
    return _view(await _own_tenant(actor))


async def update_settings(actor: Actor, changes: dict[str, Any]) -> TenantSettings:
    """Apply the given fields (others unchanged); invalid values change nothing."""
    await _own_tenant(actor)
    types = changes.get("approval_required")
    if types is not None:
        unknown = sorted(set(types) - set(ACTION_TYPES))
        if unknown:
            raise Invalid(f"Unknown action types: {', '.join(unknown)}.")
    threshold = changes.get("purchase_approval_over")
    if threshold is not None and not 0 <= float(threshold) <= 10_000_000:
        raise Invalid("purchase_approval_over must be between 0 and 10,000,000.")
    role = changes.get("approver_role")
    if role is not None and role not in APPROVER_ROLES:
        raise Invalid(f"approver_role must be one of {sorted(APPROVER_ROLES)}.")
    budget = changes.get("monthly_token_budget")
    if budget is not None and not 0 <= int(budget) <= MAX_BUDGET:
        raise Invalid("monthly_token_budget must be between 0 and 10,000,000,000.")
    model = changes.get("model")
    if model is not None and model != "" and not is_known_model(str(model)):
        raise Invalid(MODEL_HELP)
    external = changes.get("external_memory")
    if external is not None and not isinstance(external, bool):
        raise Invalid("external_memory must be true or false.")
    currency = changes.get("currency")
    if currency is not None and currency not in CURRENCIES:
        raise Invalid(f"currency must be one of {', '.join(CURRENCIES)}.")
    async with platform_session() as s:
        tenant = await s.get(Tenant, actor.tenant_id, with_for_update=True)
        if tenant is None:
            raise NotFound("No such organisation.")
        plan = tenant.plan_token_budget
        if budget is not None and plan is not None and int(budget) > plan:
            raise budget_above_plan(plan)
        policy = dict(tenant.policy or {})
        for key in (
            "approval_required",
            "purchase_approval_over",
            "approver_role",
            "model",
            "external_memory",
            "currency",
        ):
            if changes.get(key) is not None:
                value = changes[key]
                policy[key] = (
                    sorted(set(value)) if key == "approval_required" else value
                )
        tenant.policy = policy
        if budget is not None:
            tenant.monthly_token_budget = int(budget)
        s.add(tenant)
        view = _view(tenant)
    async with tenant_session(actor.tenant_id) as ts:
        audit.record(
            ts,
            actor.tenant_id,
            actor.ref,
            "tenant.settings_updated",
            f"tenant:{actor.tenant_id}",
            {k: v for k, v in changes.items() if v is not None},
        )
    return view
