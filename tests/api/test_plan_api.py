"""Plan limits through the API: the operator sets them, a full organisation's
admin gets a 409 with the reason, and budgets above the plan are refused."""

from __future__ import annotations

import uuid

import httpx

from app.core.tokens import OperatorActor
from app.domain.models import Tenant, User
from tests.api.objects import auth, operator_auth
from tests.plans import PASSWORD


async def test_the_api_answers_409_with_the_reason_when_seats_are_full(
    client: httpx.AsyncClient, plan_op: OperatorActor, plan_org: tuple[Tenant, User]
) -> None:
    tenant, admin = plan_org
    set_plan = await client.put(
        f"/api/v1/operator/tenants/{tenant.id}/plan",
        json={"seats": 1, "token_budget": 5000},
        headers=operator_auth(plan_op.operator_id),
    )
    assert set_plan.status_code == 200, set_plan.text
    assert (set_plan.json()["plan_seats"], set_plan.json()["active_users"]) == (1, 1)
    body = {
        "email": f"full-{uuid.uuid4().hex[:6]}@x.example",
        "name": "One Too Many",
        "role": "employee",
        "password": PASSWORD,
    }
    res = await client.post("/api/v1/admin/users", json=body, headers=auth(admin))
    assert res.status_code == 409
    assert res.json()["error"] == "plan_limit_reached"
    assert "plan has 1 seat and all are taken" in res.json()["message"]
    # The admin sees the plan in the settings, and cannot budget above it.
    got = await client.get("/api/v1/admin/settings", headers=auth(admin))
    assert (got.json()["plan_token_budget"], got.json()["plan_seats"]) == (5000, 1)
    over = await client.patch(
        "/api/v1/admin/settings",
        json={"monthly_token_budget": 5001},
        headers=auth(admin),
    )
    assert over.status_code == 422 and "at most 5,000 tokens" in over.json()["message"]
    # Plan input is checked; tenant tokens never reach the operator route.
    for bad in ({"seats": 0}, {"token_budget": -1}, {"seats": "many"}):
        res = await client.put(
            f"/api/v1/operator/tenants/{tenant.id}/plan",
            json=bad,
            headers=operator_auth(plan_op.operator_id),
        )
        assert res.status_code == 422, bad
    res = await client.put(
        f"/api/v1/operator/tenants/{tenant.id}/plan", json={}, headers=auth(admin)
    )
    assert res.status_code == 401
    res = await client.put(
        f"/api/v1/operator/tenants/{uuid.uuid4()}/plan",
        json={},
        headers=operator_auth(plan_op.operator_id),
    )
    assert res.status_code == 404
