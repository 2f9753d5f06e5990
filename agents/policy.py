"""The scoped agent: every proposed action is checked against the sender's tenant
and role before anything runs, and resolved into the payload execution runs.

Input is untrusted (the model can be steered by what it reads), output is a
Proposal: allow, deny (with a reason the sender sees) or needs_approval (with the
role that must approve). References resolve only inside the sender's directory,
which is loaded through the tenant's row-level-security session and, for residents,
holds only staff and themselves: another tenant's people, or a neighbour, cannot
be named. Times come in as tenant-local ISO and leave as UTC.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agents.directory import Directory, PropertyEntry, Resolved, UnknownRef
from agents.plan import Proposal
from agents.schemas import (
    Action,
    CancelServiceAction,
    CreateTaskAction,
    InvalidAction,
    LogServiceAction,
    NotifyAction,
    ScheduleAction,
)
from app.context import APPROVER_ROLES

# How far in the past a due date or start may be (a reminder "at 9" sent at 9:03).
PAST_GRACE = timedelta(minutes=15)
MAX_FUTURE = timedelta(days=366 * 2)
ACTION_NAMES = {
    "notify": "send that message",
    "create_task": "create that task",
    "schedule": "schedule that",
    "log_service": "log that service",
    "cancel_service": "cancel that service",
}


class Refused(Exception):
    """The action is refused; `reason` is shown to the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TenantPolicy:
    """Tenant-configurable rules (Tenant.policy JSON), with safe defaults."""

    approval_required: frozenset[str] = frozenset({"cancel_service"})
    purchase_approval_over: float = 200.0
    approver_role: str = "manager"

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TenantPolicy:
        raw = raw or {}
        default = cls()
        types = raw.get("approval_required", sorted(default.approval_required))
        role = str(raw.get("approver_role", default.approver_role))
        return cls(
            approval_required=frozenset(str(t) for t in types or []),
            purchase_approval_over=float(
                raw.get("purchase_approval_over", default.purchase_approval_over)
            ),
            approver_role=role if role in APPROVER_ROLES else default.approver_role,
        )


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
            raise Refused(action.reason)
        checker = _Checker(directory, now_local, policy)
        payload, summary = checker.check(action)
    except Refused as exc:
        return Proposal(kind, {}, "deny", reason=exc.reason, summary=kind)
    needs = checker.approval_needed(action)
    if needs:
        return Proposal(
            kind,
            payload,
            "needs_approval",
            reason=needs,
            required_role=policy.approver_role,
            summary=summary,
        )
    return Proposal(kind, payload, "allow", summary=summary)


class _Checker:
    def __init__(
        self, directory: Directory, now_local: datetime, policy: TenantPolicy
    ) -> None:
        self.d = directory
        self.sender = directory.sender
        self.tz = ZoneInfo(directory.tenant.timezone)
        self.now_local = now_local
        self.policy = policy

    @property
    def is_resident(self) -> bool:
        return self.sender.role == "resident"

    # ------------------------------------------------------------------ checks

    def check(self, action: Action) -> tuple[dict[str, Any], str]:
        if isinstance(action, NotifyAction):
            return self._notify(action)
        if isinstance(action, CreateTaskAction):
            return self._task(action)
        if isinstance(action, ScheduleAction):
            return self._schedule(action)
        if isinstance(action, LogServiceAction):
            return self._log_service(action)
        return self._cancel_service(action)

    def approval_needed(self, action: Action) -> str | None:
        if self.sender.role in APPROVER_ROLES:
            return None  # approvers do not approve their own requests
        if action.type in self.policy.approval_required:
            return f"{action.type} needs a {self.policy.approver_role}'s approval"
        if (
            isinstance(action, CreateTaskAction)
            and action.cost is not None
            and action.cost > self.policy.purchase_approval_over
        ):
            return (
                f"purchases over {self.policy.purchase_approval_over:g} need a "
                f"{self.policy.approver_role}'s approval"
            )
        return None

    def _notify(self, a: NotifyAction) -> tuple[dict[str, Any], str]:
        ids = self._recipients(a.recipients)
        payload = {
            "recipient_user_ids": [str(i) for i in ids],
            "refs": list(a.recipients),
            "message": a.message,
            "title": f"From {self.sender.name}",
        }
        return payload, f"Notify {', '.join(a.recipients)}"

    def _task(self, a: CreateTaskAction) -> tuple[dict[str, Any], str]:
        assignee_user = assignee_team = None
        if a.assignee:
            target = self._resolve(a.assignee)
            if target.kind == "user" and target.person is not None:
                if self.is_resident and not target.person.is_staff:
                    raise Refused("residents can only ask staff for help")
                assignee_user = target.person.id
            elif target.kind == "team" and target.team is not None:
                assignee_team = target.team.id
            else:
                raise Refused("a task is assigned to one person or one team")
        prop, unit_id = self._place(a.property, a.unit)
        due = self._utc(a.due, "due") if a.due else None
        payload = {
            "title": a.title,
            "details": a.details,
            "assignee_user_id": str(assignee_user) if assignee_user else None,
            "assignee_team_id": str(assignee_team) if assignee_team else None,
            "assignee_ref": a.assignee,
            "due_at": due,
            "property_id": str(prop.id) if prop else None,
            "unit_id": str(unit_id) if unit_id else None,
            "priority": a.priority,
            "cost": a.cost,
        }
        return payload, f"Task: {a.title}"

    def _schedule(self, a: ScheduleAction) -> tuple[dict[str, Any], str]:
        ids = self._recipients(a.audience) if a.audience else []
        team_id = next(
            (
                self._resolve(r).team.id  # type: ignore[union-attr]
                for r in a.audience
                if r.startswith("team:")
            ),
            None,
        )
        prop, unit_id = self._place(a.property, a.unit)
        starts_at = self._utc(a.start, "start")
        payload = {
            "title": a.title,
            "kind": a.kind,
            "starts_at": starts_at,
            "audience": list(a.audience),
            "audience_user_ids": [str(i) for i in ids],
            "team_id": str(team_id) if team_id else None,
            "property_id": str(prop.id) if prop else None,
            "unit_id": str(unit_id) if unit_id else None,
            "message": f"{a.title} ({self._local_label(starts_at)})",
        }
        return payload, f"Schedule: {a.title} at {a.start}"

    def _log_service(self, a: LogServiceAction) -> tuple[dict[str, Any], str]:
        self._staff_only("log a service")
        prop = self._property(a.property)
        service = prop.service(a.service)
        if service is None:
            raise Refused(f"{prop.name} has no service called {a.service!r}")
        payload = {
            "property_id": str(prop.id),
            "service_id": str(service.id),
            "service_name": service.name,
            "note": a.note,
        }
        return payload, f"Log {service.name} at {prop.name}"

    def _cancel_service(self, a: CancelServiceAction) -> tuple[dict[str, Any], str]:
        self._staff_only("cancel a service")
        prop = self._property(a.property)
        service = prop.service(a.service)
        if service is None:
            raise Refused(f"{prop.name} has no service called {a.service!r}")
        after = self.now_local
        if a.when:
            try:
                after = max(after, datetime.fromisoformat(a.when).replace(tzinfo=None))
            except ValueError as exc:
                raise Refused(f"not a date: {a.when!r}") from exc
        occurrence = _next_occurrence(
            service.weekday, service.month_day, service.time, after
        )
        starts_at = occurrence.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC"))
        payload = {
            "property_id": str(prop.id),
            "service_id": str(service.id),
            "service_name": service.name,
            "starts_at": starts_at.isoformat(),
            "reason": a.reason,
        }
        label = occurrence.strftime("%a %d %b %H:%M")
        return payload, f"Cancel {service.name} at {prop.name} on {label}"

    # ------------------------------------------------------------------ helpers

    def _staff_only(self, what: str) -> None:
        if self.is_resident:
            raise Refused(f"residents cannot {what}")

    def _resolve(self, ref: str) -> Resolved:
        try:
            return self.d.resolve(ref)
        except UnknownRef as exc:
            raise Refused(exc.reason) from exc

    def _recipients(self, refs: list[str]) -> list[uuid.UUID]:
        ids: list[uuid.UUID] = []
        for ref in refs:
            target = self._resolve(ref)
            if self.is_resident:
                self._resident_may_address(target)
            ids.extend(target.user_ids)
        ids = [i for i in dict.fromkeys(ids) if i != self.sender.id]
        if not ids:
            raise Refused("nobody to tell: the recipients are only you or nobody")
        return ids

    def _resident_may_address(self, target: Resolved) -> None:
        if target.kind == "property" or (
            target.kind == "role" and target.ref.endswith(":resident")
        ):
            raise Refused("residents cannot message other residents")
        people = [self.d.person_by_id(i) for i in target.user_ids]
        if any(p is None or not (p.is_staff or p.id == self.sender.id) for p in people):
            raise Refused("residents can only message staff")

    def _property(self, slug: str) -> PropertyEntry:
        prop = self.d.property(slug)
        if prop is None:
            raise Refused(f"property:{slug} is not in your directory")
        return prop

    def _place(
        self, slug: str | None, unit: str | None
    ) -> tuple[PropertyEntry | None, uuid.UUID | None]:
        if self.is_resident:
            # A resident acts on their own unit only, whatever the model wrote.
            own = self.sender.property
            if slug and slug != own or unit and unit != self.sender.unit:
                raise Refused("residents can only act on their own unit")
            slug, unit = own, self.sender.unit
        if not slug:
            if unit:
                raise Refused("a unit needs its property")
            return None, None
        prop = self._property(slug)
        if not unit:
            return prop, None
        unit_id = prop.unit_id(unit)
        if unit_id is None:
            raise Refused(f"{prop.name} has no unit {unit}")
        return prop, unit_id

    def _utc(self, local_iso: str, what: str) -> str:
        try:
            local = datetime.fromisoformat(local_iso)
        except ValueError as exc:
            raise Refused(f"{what} is not a date-time: {local_iso!r}") from exc
        if local.tzinfo is not None:
            local = local.astimezone(self.tz).replace(tzinfo=None)
        if local < self.now_local - PAST_GRACE:
            raise Refused(f"the {what} time {local_iso} is in the past")
        if local > self.now_local + MAX_FUTURE:
            raise Refused(f"the {what} time {local_iso} is too far ahead")
        return local.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC")).isoformat()

    def _local_label(self, utc_iso: str) -> str:
        return (
            datetime.fromisoformat(utc_iso)
            .astimezone(self.tz)
            .strftime("%a %d %b %H:%M")
        )


def _next_occurrence(
    weekday: int | None, month_day: int | None, hhmm: str, after: datetime
) -> datetime:
    """The service's next local occurrence at or after `after` (naive local)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    day = after.replace(hour=hour, minute=minute, second=0, microsecond=0)
    for _ in range(400):
        matches = (weekday is None or day.weekday() == weekday) and (
            month_day is None or day.day == month_day
        )
        if matches and day >= after:
            return day
        day += timedelta(days=1)
    return after


def refusal_line(proposal: Proposal) -> str:
    """What the sender reads about an action that did not run (yet)."""
    if proposal.decision == "deny":
        what = ACTION_NAMES.get(proposal.type, "do that")
        return f"I could not {what}: {proposal.reason}."
    if proposal.decision == "needs_approval":
        return (
            f"{proposal.summary} is waiting for a {proposal.required_role}'s "
            "approval; I'll let you know."
        )
    return ""
