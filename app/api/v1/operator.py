"""/api/v1/operator: the platform operator manages organisations (tenants) only.

Operator tokens reach nothing else, and tenant tokens never reach these routes.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import CurrentOperator
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.schemas import TenantDetailOut, TenantIn, TenantOut, TenantPlanIn
from app.services import console

router = APIRouter(prefix="/operator", tags=["operator"])


@router.get("/tenants", response_model=list[TenantOut], responses=AUTH_ERRORS)
async def list_tenants(operator: CurrentOperator) -> list[TenantOut]:
    return [TenantOut.model_validate(t) for t in await console.list_tenants(operator)]


@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantOut,
    responses={**AUTH_ERRORS, **errors(409)},
)
async def create_tenant(body: TenantIn, operator: CurrentOperator) -> TenantOut:
    """A new organisation with its first administrator (handle "admin"), who
    signs in with admin_email / admin_password and manages the rest."""
    row = await console.create_tenant(
        operator,
        slug=body.slug,
        name=body.name,
        kind=body.kind,
        timezone=body.timezone,
        admin_email=body.admin_email,
        admin_name=body.admin_name,
        admin_password=body.admin_password,
    )
    return TenantOut.model_validate(row)


@router.put(
    "/tenants/{tenant_id}/plan",
    response_model=TenantDetailOut,
    responses={**AUTH_ERRORS, **errors(404)},
)
async def set_plan(
    tenant_id: uuid.UUID, body: TenantPlanIn, operator: CurrentOperator
) -> TenantDetailOut:
    """Set an organisation's plan limits: a monthly token budget and seats (active
    accounts). The assistant stops at the smaller of the plan's budget and the
    organisation's own; accounts past the seats are refused with a 409."""
    detail = await console.set_plan(operator, tenant_id, body.token_budget, body.seats)
    return TenantDetailOut.model_validate(detail)
