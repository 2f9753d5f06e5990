"""The scoped agent: tenant, role and shape checks on every proposed action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from agents.plan import Proposal
from agents.policy import TenantPolicy, refusal_line, validate
from agents.schemas import parse_action
from tests.agents.yaml_directory import directory_for

NOW = datetime(2026, 3, 2, 9, 0)


def check(
    tenant: str, handle: str, raw: dict[str, Any], policy: dict[str, Any] | None = None
) -> Proposal:
    return validate(
        parse_action(raw),
        directory_for(tenant, handle),
        NOW,
        TenantPolicy.from_dict(policy),
    )


def test_notify_resolves_team_to_member_ids_without_the_sender() -> None:
    d = directory_for("harbor-bistro", "luis")
    p = check(
        "harbor-bistro",
        "luis",
        {"type": "notify", "recipients": ["team:kitchen"], "message": "hi"},
    )
    assert p.decision == "allow"
    assert p.payload["recipient_user_ids"] == [str(d.person("sam").id)]  # type: ignore[union-attr]


@pytest.mark.isolation
def test_other_tenants_people_are_unknown() -> None:
    # Riverside's manager is "rita"; from Maple Court she does not exist.
    p = check(
        "maple-court",
        "dana",
        {"type": "notify", "recipients": ["user:rita"], "message": "rent"},
    )
    assert (p.decision, p.reason) == ("deny", "user:rita is not in your directory")
    assert p.payload == {}


@pytest.mark.isolation
def test_same_handle_resolves_inside_the_senders_tenant_only() -> None:
    maple = directory_for("maple-court", "dana")
    p = check(
        "riverside-lofts",
        "rita",
        {"type": "notify", "recipients": ["user:ben"], "message": "parcel"},
    )
    riverside_ben = directory_for("riverside-lofts", "rita").person("ben")
    assert p.payload["recipient_user_ids"] == [str(riverside_ben.id)]  # type: ignore[union-attr]
    assert str(maple.person("ben").id) not in p.payload["recipient_user_ids"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "recipients",
    [["property:maple-court-12"], ["role:resident"], ["user:alice"]],
)
def test_resident_cannot_message_other_residents(recipients: list[str]) -> None:
    p = check(
        "maple-court",
        "ben",
        {"type": "notify", "recipients": recipients, "message": "water off"},
    )
    assert p.decision == "deny"
    assert "resident" in p.reason or "not in your directory" in p.reason


def test_resident_can_message_staff() -> None:
    p = check(
        "maple-court",
        "ben",
        {"type": "notify", "recipients": ["team:maintenance"], "message": "leak"},
    )
    assert p.decision == "allow"


def test_resident_task_is_pinned_to_their_own_unit() -> None:
    d = directory_for("maple-court", "ben")
    p = check(
        "maple-court",
        "ben",
        {"type": "create_task", "title": "Sink", "assignee": "team:maintenance"},
    )
    assert p.decision == "allow"
    prop = d.property("maple-court-12")
    assert prop is not None
    assert p.payload["unit_id"] == str(prop.unit_id("4B"))
    other = check(
        "maple-court",
        "ben",
        {"type": "create_task", "title": "Sink", "unit": "2A"},
    )
    assert (other.decision, other.reason) == (
        "deny",
        "residents can only act on their own unit",
    )


@pytest.mark.parametrize(
    "raw",
    [
        {
            "type": "log_service",
            "property": "maple-court-12",
            "service": "Trash pickup",
        },
        {
            "type": "cancel_service",
            "property": "maple-court-12",
            "service": "Trash pickup",
        },
    ],
)
def test_residents_cannot_log_or_cancel_services(raw: dict[str, Any]) -> None:
    assert check("maple-court", "ben", raw).decision == "deny"


def test_cancel_by_employee_needs_manager_approval_with_next_occurrence() -> None:
    p = check(
        "maple-court",
        "omar",
        {
            "type": "cancel_service",
            "property": "maple-court-12",
            "service": "elevator inspection",
        },
    )
    assert (p.decision, p.required_role) == ("needs_approval", "manager")
    # The 15th at 09:00 London (GMT in March) = 09:00 UTC.
    assert p.payload["starts_at"] == "2026-03-15T09:00:00+00:00"
    assert "waiting for a manager's approval" in refusal_line(p)


def test_cancel_by_manager_runs_directly() -> None:
    p = check(
        "maple-court",
        "dana",
        {
            "type": "cancel_service",
            "property": "maple-court-12",
            "service": "Trash pickup",
        },
    )
    assert p.decision == "allow"


def test_tenant_policy_can_require_approval_for_other_types() -> None:
    p = check(
        "harbor-bistro",
        "luis",
        {"type": "create_task", "title": "Order oil", "cost": 50},
        policy={"approval_required": ["create_task"]},
    )
    assert p.decision == "needs_approval"


def test_purchase_over_threshold_needs_approval() -> None:
    raw = {"type": "create_task", "title": "Buy mixer", "cost": 450}
    assert check("harbor-bistro", "luis", raw).decision == "needs_approval"
    assert check("harbor-bistro", "maya", raw).decision == "allow"
    cheap = {"type": "create_task", "title": "Buy lemons", "cost": 20}
    assert check("harbor-bistro", "luis", cheap).decision == "allow"


def test_times_are_local_in_utc_out() -> None:
    p = check(
        "harbor-bistro",
        "maya",
        {
            "type": "schedule",
            "title": "Fridge",
            "start": "2026-03-06T22:00",
            "audience": ["team:kitchen"],
        },
    )
    # New York is UTC-5 in early March.
    assert p.payload["starts_at"] == "2026-03-07T03:00:00+00:00"
    assert len(p.payload["audience_user_ids"]) == 2


def test_past_time_is_refused() -> None:
    p = check(
        "harbor-bistro",
        "maya",
        {"type": "schedule", "title": "x", "start": "2026-02-01T10:00"},
    )
    assert p.decision == "deny"
    assert "in the past" in p.reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            {"type": "transfer_money", "amount": 5},
            "unknown action type 'transfer_money'",
        ),
        ({"type": "notify", "recipients": [], "message": "x"}, "who to tell was empty"),
        ({"type": "notify", "recipients": ["user:sam"], "message": "x" * 1001}, "1000"),
        (
            {"type": "notify", "recipients": ["user:sam"], "message": "x", "cc": 1},
            "a part I do not understand",
        ),
        (
            {"type": "notify", "recipients": ["Sam Okafor"], "message": "x"},
            "I could not tell who that is",
        ),
        ({"type": "notify", "recipients": ["user:sam"], "message": " "}, "was empty"),
        (
            {"type": "schedule", "title": "x", "start": "soon"},
            "I could not read the time",
        ),
    ],
)
def test_malformed_actions_are_refused_with_a_reason(
    raw: dict[str, Any], reason: str
) -> None:
    p = check("harbor-bistro", "maya", raw)
    assert p.decision == "deny"
    assert reason in p.reason
    # Plain words only: no pydantic jargon reaches the sender.
    for jargon in ("String should", "Field required", "pattern", "Extra inputs"):
        assert jargon not in p.reason


def test_notifying_only_yourself_is_refused() -> None:
    p = check(
        "harbor-bistro",
        "maya",
        {"type": "notify", "recipients": ["user:maya"], "message": "me"},
    )
    assert p.decision == "deny"


def test_unknown_service_is_refused() -> None:
    p = check(
        "maple-court",
        "grace",
        {"type": "log_service", "property": "maple-court-12", "service": "Pool"},
    )
    assert p.reason == "Maple Court has no service called 'Pool'"


def test_reply_does_not_claim_what_did_not_run() -> None:
    from agents.runner import compose_reply

    denied = Proposal("notify", {}, "deny", reason="residents cannot message others")
    allowed = Proposal("create_task", {"title": "x"}, "allow")
    only_denied = compose_reply("I'll let everyone know.", [denied])
    assert only_denied == (
        "I could not send that message: residents cannot message others."
    )
    mixed = compose_reply("Logged the task.", [allowed, denied])
    assert mixed.startswith("Logged the task.\nI could not send that message")
    assert compose_reply("Hello!", []) == "Hello!"


@pytest.mark.parametrize(
    ("recipients", "said"),
    [
        (["user:omar"], "Notify Omar Haddad"),
        (["team:maintenance"], "Notify Maintenance"),
        (["role:manager", "property:maple-court-12"], "Notify managers, residents of"),
    ],
)
def test_an_approval_names_people_not_refs(recipients: list[str], said: str) -> None:
    # The summary is what the approval card and the sender's reply show.
    out = check(
        "maple-court",
        "dana",
        {"type": "notify", "recipients": recipients, "message": "Water off at 2pm"},
    )
    assert out.summary.startswith(said)
    assert ":" not in out.summary


def test_a_schedule_summary_gives_the_local_time_not_iso() -> None:
    out = check(
        "harbor-bistro",
        "maya",
        {
            "type": "schedule",
            "title": "Deep clean",
            "start": "2026-03-03T17:30",
            "audience": ["team:kitchen"],
        },
    )
    assert out.summary.startswith("Schedule: Deep clean (")
    assert "17:30" in out.summary and "T17" not in out.summary
