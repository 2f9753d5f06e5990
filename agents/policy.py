"""The scoped agent: every proposed action is checked against the sender's tenant
and role before anything runs, and resolved into the payload execution runs.

Input is untrusted (the model can be steered by what it reads), output is a
Proposal: allow, deny (with a reason the sender sees) or needs_approval (with the
role that must approve). Each action type's own check lives in its registry module
(app/domain/actions); this module applies it and the tenant's approval rules.
References resolve only inside the sender's directory, which is loaded through the
tenant's row-level-security session and, for residents, holds only staff and
themselves: another tenant's people, or a neighbour, cannot be named. Times come in
as tenant-local ISO and leave as UTC.
"""

from __future__ import annotations

from datetime import datetime

from agents.plan import Proposal
from agents.schemas import InvalidAction
from app.domain.actions import SPECS, Action, spec_for
from app.domain.actions.base import CheckContext, Refused
from app.domain.directory import Directory
from app.domain.roles import APPROVER_ROLES
from app.domain.tenant_policy import TenantPolicy
from app.domain.timezones import zone_or_utc

__all__ = ["TenantPolicy", "refusal_line", "validate"]


def validate(
    action: Action | InvalidAction,
    directory: Directory,
    now_local: datetime,
    policy: TenantPolicy,
) -> Proposal:
    """One proposed action → a Proposal (never raises for bad input)."""
    kind = action.type
    try:
        if isinstance(action, InvalidAction):
            raise Refused(action.reason, "invalid_action")
        spec = spec_for(kind)
        zone = zone_or_utc(directory.tenant.timezone)
        ctx = CheckContext(directory, now_local, policy, zone)
        checked = spec.check(action, ctx)
    except Refused as exc:
        return Proposal(
            kind, {}, "deny", reason=exc.reason, reason_code=exc.code, summary=kind
        )
    payload = checked.payload.to_json()
    needs = approval_needed(action, directory, policy)
    if needs:
        return Proposal(
            kind,
            payload,
            "needs_approval",
            reason=needs,
            required_role=policy.approver_role,
            summary=checked.summary,
        )
    return Proposal(kind, payload, "allow", summary=checked.summary)


def approval_needed(
    action: Action, directory: Directory, policy: TenantPolicy
) -> str | None:
    """Why this action waits for an approver, or None. Approvers never wait for
    themselves; otherwise the tenant's list of types, then the type's own rule."""
    if directory.sender.role in APPROVER_ROLES:
        return None
    if action.type in policy.approval_required:
        return f"{action.type} needs a {policy.approver_role}'s approval"
    rule = spec_for(action.type).approval
    return rule(action, policy) if rule is not None else None


def refusal_line(proposal: Proposal) -> str:
    """What the sender reads about an action that did not run (yet)."""
    if proposal.decision == "deny":
        spec = SPECS.get(proposal.type)
        what = spec.verb if spec is not None else "do that"
        return f"I could not {what}: {proposal.reason}."
    if proposal.decision == "needs_approval":
        return (
            f"{proposal.summary} is waiting for a {proposal.required_role}'s "
            "approval; I'll let you know."
        )
    return ""
