"""Plan limits set by the platform operator: seats refuse one account too many
(console and API, with a clear message), the plan's token budget caps the
organisation's own, and the operator's view carries counts, never content."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.core.tokens import OperatorActor
from app.domain.actor import Actor
from app.domain.errors import Invalid, NotFound
from app.domain.models import AuditEvent, Tenant, User
from app.domain.plan import PlanLimitReached, token_limit
from app.services import accounts, console, tenant_settings
from tests.conftest import Demo
from tests.plans import PASSWORD


def _admin(user: User) -> Actor:
    return Actor(user.tenant_id, user.id, user.role)


async def _new(admin: User, n: int) -> User:
    return await accounts.create_user(
        _admin(admin),
        email=f"u{n}-{uuid.uuid4().hex[:6]}@x.example",
        name=f"User {n}",
        role="employee",
        password=PASSWORD,
    )


async def test_seats_refuse_the_account_past_the_plan(
    plan_op: OperatorActor, plan_org: tuple[Tenant, User]
) -> None:
    tenant, admin = plan_org
    detail = await console.set_plan(plan_op, tenant.id, None, 2)
    assert (detail.plan_seats, detail.active_users) == (2, 1)
    second = await _new(admin, 2)
    with pytest.raises(PlanLimitReached, match="2 seats and all are taken"):
        await _new(admin, 3)
    # A disabled account frees its seat; re-enabling it past the plan is refused.
    await accounts.set_disabled(_admin(admin), second.id, True)
    third = await _new(admin, 3)
    with pytest.raises(PlanLimitReached):
        await accounts.set_disabled(_admin(admin), second.id, False)
    # Lowering the plan disables nobody.
    detail = await console.set_plan(plan_op, tenant.id, None, 1)
    assert detail.active_users == 2
    await accounts.set_disabled(_admin(admin), third.id, True)
    with pytest.raises(PlanLimitReached):
        await accounts.set_disabled(_admin(admin), third.id, False)
    await console.set_plan(plan_op, tenant.id, None, None)  # no limit again
    await accounts.set_disabled(_admin(admin), third.id, False)
    async with tenant_session(tenant.id) as s:
        kinds = [
            e.kind
            for e in (
                await s.exec(
                    select(AuditEvent).where(AuditEvent.kind == "tenant.plan_changed")
                )
            ).all()
        ]
    assert len(kinds) == 3


async def test_seats_are_counted_one_creation_at_a_time(
    plan_op: OperatorActor, plan_org: tuple[Tenant, User]
) -> None:
    import asyncio

    tenant, admin = plan_org
    await console.set_plan(plan_op, tenant.id, None, 3)
    results = await asyncio.gather(
        *[_new(admin, n) for n in range(6)], return_exceptions=True
    )
    made = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, PlanLimitReached)]
    assert (len(made), len(refused)) == (2, 4)


async def test_plan_budget_caps_the_organisation_budget() -> None:
    assert token_limit(1000, None).tokens == 1000
    assert token_limit(1000, 500) == token_limit(1000, 500)
    assert (token_limit(1000, 500).tokens, token_limit(1000, 500).source) == (
        500,
        "plan",
    )
    assert token_limit(400, 500).source == "organisation"
    assert token_limit(0, None).tokens == 0


async def test_usage_gauge_shows_the_plan_limit(
    plan_op: OperatorActor, plan_org: tuple[Tenant, User]
) -> None:
    from app.services import usage

    tenant, admin = plan_org
    await console.set_plan(plan_op, tenant.id, 1234, None)
    assert (await usage.budget(_admin(admin))).budget == 1234
    with pytest.raises(Invalid, match="at most 1,234 tokens"):
        await tenant_settings.update_settings(
            _admin(admin), {"monthly_token_budget": 2000}
        )
    view = await tenant_settings.update_settings(
        _admin(admin), {"monthly_token_budget": 1000}
    )
    assert view.monthly_token_budget == 1000
    assert (await usage.budget(_admin(admin))).budget == 1000


async def test_operator_plan_refuses_bad_input_and_unknown_tenants(
    plan_op: OperatorActor, plan_org: tuple[Tenant, User]
) -> None:
    tenant, _ = plan_org
    with pytest.raises(Invalid):
        await console.set_plan(plan_op, tenant.id, -1, None)
    with pytest.raises(Invalid):
        await console.set_plan(plan_op, tenant.id, None, 0)
    with pytest.raises(NotFound):
        await console.set_plan(plan_op, uuid.uuid4(), 10, 10)
    from app.domain.errors import Forbidden

    with pytest.raises(Forbidden):
        await console.set_plan(None, tenant.id, 10, 10)


async def test_the_operator_never_sees_tenant_content(
    demo: Demo, plan_op: OperatorActor
) -> None:
    """Everything the operator's reads return is counts, sums, names of
    organisations and plan figures: no person, message, memory or task."""
    content: list[str] = []
    for user in demo.users.values():
        content += [user.email, user.name]
    async with tenant_session(demo.tenant("maple-court").id) as s:
        from app.domain.models import Memory, Message, Task

        content += [m.text for m in (await s.exec(select(Memory))).all()]
        content += [m.body for m in (await s.exec(select(Message))).all()]
        content += [t.title for t in (await s.exec(select(Task))).all()]
    details = await console.tenant_details(plan_op)
    plan = await console.set_plan(plan_op, demo.tenant("maple-court").id, None, None)
    seen = json.dumps(
        [asdict(d) for d in details]
        + [asdict(plan)]
        + [asdict(t) for t in await console.list_tenants(plan_op)],
        default=str,
    )
    leaked = [c for c in content if c and c in seen]
    assert leaked == [], leaked
    fields = {f for d in details for f in asdict(d)}
    assert fields == {
        "id",
        "slug",
        "name",
        "status",
        "users",
        "active_users",
        "tokens_this_month",
        "cost_this_month",
        "monthly_token_budget",
        "plan_token_budget",
        "plan_seats",
    }
