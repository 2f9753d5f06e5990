"""An organisation's assistant policy (Tenant.policy JSON), with safe defaults.

Which action types wait for approval, the purchase amount above which a task
waits too, and which role approves. Read by the validator (agents/policy.py) and
edited by admins (app/services/tenant_settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.roles import APPROVER_ROLES

DEFAULT_APPROVAL_REQUIRED = frozenset({"cancel_service"})
DEFAULT_PURCHASE_APPROVAL_OVER = 200.0
DEFAULT_APPROVER_ROLE = "manager"


@dataclass(frozen=True)
class TenantPolicy:
    approval_required: frozenset[str] = DEFAULT_APPROVAL_REQUIRED
    purchase_approval_over: float = DEFAULT_PURCHASE_APPROVAL_OVER
    approver_role: str = DEFAULT_APPROVER_ROLE

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TenantPolicy:
        raw = raw or {}
        default = cls()
        types = raw.get("approval_required", sorted(default.approval_required))
        role = str(raw.get("approver_role", default.approver_role))
        try:
            threshold = float(
                raw.get("purchase_approval_over", default.purchase_approval_over)
            )
        except (TypeError, ValueError):
            threshold = default.purchase_approval_over
        return cls(
            approval_required=frozenset(str(t) for t in types or []),
            purchase_approval_over=threshold,
            approver_role=role if role in APPROVER_ROLES else default.approver_role,
        )
