"""/api/v1/approvals: critical actions waiting for a manager or admin."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.api.deps import ApproverActor
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.schemas import ApprovalOut
from app.services import approvals

router = APIRouter(prefix="/approvals", tags=["approvals"])
DECIDE_ERRORS = {**AUTH_ERRORS, **errors(403, 404, 409)}


@router.get(
    "", response_model=list[ApprovalOut], responses={**AUTH_ERRORS, **errors(403)}
)
async def list_pending(actor: ApproverActor) -> list[ApprovalOut]:
    """Pending approvals the caller may decide (admins: all; managers: those that
    require a manager), oldest first."""
    return [ApprovalOut.model_validate(a) for a in await approvals.list_pending(actor)]


@router.post(
    "/{approval_id}/approve", response_model=ApprovalOut, responses=DECIDE_ERRORS
)
async def approve(approval_id: uuid.UUID, actor: ApproverActor) -> ApprovalOut:
    """Run exactly the payload that was requested. Never by the requester (403);
    409 when already decided, expired, or the payload changed since."""
    return ApprovalOut.model_validate(
        await approvals.decide(actor, approval_id, approve=True)
    )


@router.post(
    "/{approval_id}/reject", response_model=ApprovalOut, responses=DECIDE_ERRORS
)
async def reject(approval_id: uuid.UUID, actor: ApproverActor) -> ApprovalOut:
    return ApprovalOut.model_validate(
        await approvals.decide(actor, approval_id, approve=False)
    )
