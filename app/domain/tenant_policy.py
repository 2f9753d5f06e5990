"""An organisation's assistant policy (Tenant.policy JSON), with safe defaults.

Which action types wait for approval, the purchase amount above which a task
waits too (in the organisation's currency), and which role approves; the
organisation's model (any litellm model string, "" for the platform's), and its
data policy: whether memory content may be sent to an external model provider.
Read by the validator (agents/policy.py) and the turn (app/services/turns.py),
edited by admins (app/services/tenant_settings.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.domain.money import DEFAULT_CURRENCY, currency_or_default
from app.domain.roles import APPROVER_ROLES

DEFAULT_APPROVAL_REQUIRED = frozenset({"cancel_service"})
DEFAULT_PURCHASE_APPROVAL_OVER = 200.0
DEFAULT_APPROVER_ROLE = "manager"
# Models served in-process (agents/provider.py): nothing leaves the platform.
BUILT_IN_PROVIDER = "switchboard/"
# The built-in chat models an organisation may choose (agents/provider.py serves
# them; a test keeps the two in step).
BUILT_IN_MODELS = frozenset({"switchboard/offline"})
MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,119}$"
MODEL_RE = re.compile(MODEL_PATTERN)
MODEL_HELP = (
    "model must be a litellm model string (provider/model, for example "
    "openai/gpt-4o-mini), a built-in model (switchboard/offline), or empty for "
    "the platform's model."
)


def is_external_model(model: str) -> bool:
    """Whether a prompt for `model` leaves the platform for a model provider."""
    return not model.startswith(BUILT_IN_PROVIDER)


@dataclass(frozen=True)
class TenantPolicy:
    approval_required: frozenset[str] = DEFAULT_APPROVAL_REQUIRED
    purchase_approval_over: float = DEFAULT_PURCHASE_APPROVAL_OVER
    approver_role: str = DEFAULT_APPROVER_ROLE
    model: str = ""  # "" = the platform's model (settings.llm_model)
    # False: prompts for an external model carry no memory content.
    external_memory: bool = True
    # ISO 4217 code of the organisation's amounts (app/domain/money.py).
    currency: str = DEFAULT_CURRENCY

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TenantPolicy:
        raw = raw or {}
        default = cls()
        types = raw.get("approval_required", sorted(default.approval_required))
        role = str(raw.get("approver_role", default.approver_role))
        model = str(raw.get("model") or "")
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
            model=model if MODEL_RE.match(model) else "",
            external_memory=raw.get("external_memory", True) is not False,
            currency=currency_or_default(raw.get("currency")),
        )

    def model_for(self, platform_model: str) -> str:
        return self.model or platform_model

    def withholds_memories(self, model: str) -> bool:
        return not self.external_memory and is_external_model(model)
