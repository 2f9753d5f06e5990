"""The action registry: every type declared once, complete, and read everywhere."""

from __future__ import annotations

import pkgutil
import uuid
from datetime import UTC, datetime
from typing import Any, get_args

import pytest

import app.domain.actions as actions_pkg
from agents.schemas import output_json_schema, parse_action
from app.domain.actions import ACTION_LABELS, ACTION_TYPES, SPECS, load_payload

EXAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "notify": {
        "recipient_user_ids": [uuid.uuid4()],
        "refs": ["team:kitchen"],
        "message": "Prep!",
        "title": "From Maya",
    },
    "create_task": {
        "title": "Fix the sink",
        "assignee_team_id": uuid.uuid4(),
        "due_at": datetime(2026, 3, 3, 7, tzinfo=UTC),
        "cost": 12.5,
    },
    "schedule": {
        "title": "Fridge",
        "starts_at": datetime(2026, 3, 7, 3, tzinfo=UTC),
        "audience": ["team:kitchen"],
        "audience_user_ids": [uuid.uuid4()],
    },
    "log_service": {
        "property_id": uuid.uuid4(),
        "service_id": uuid.uuid4(),
        "service_name": "Hallway cleaning",
    },
    "cancel_service": {
        "property_id": uuid.uuid4(),
        "service_id": uuid.uuid4(),
        "service_name": "Trash pickup",
        "starts_at": datetime(2026, 3, 5, 7, tzinfo=UTC),
    },
}


def test_every_module_of_the_package_is_one_registered_type() -> None:
    modules = {
        m.name
        for m in pkgutil.iter_modules(actions_pkg.__path__)
        if m.name != "base" and not m.name.startswith("_")
    }
    assert modules == set(ACTION_TYPES)
    assert ACTION_TYPES == (
        "notify",
        "create_task",
        "schedule",
        "log_service",
        "cancel_service",
    )


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_a_spec_is_complete_and_consistent(action_type: str) -> None:
    spec = SPECS[action_type]
    assert spec.type == action_type
    (literal,) = get_args(spec.input.model_fields["type"].annotation)
    assert literal == action_type
    assert spec.label and ACTION_LABELS[action_type] == spec.label
    assert spec.verb and not spec.verb.endswith(".")
    assert callable(spec.check) and callable(spec.execute)


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_stored_payloads_round_trip_as_json(action_type: str) -> None:
    payload = SPECS[action_type].payload.model_validate(EXAMPLE_PAYLOADS[action_type])
    stored = payload.to_json()
    # Stored as plain JSON: ids as strings, times as ISO with the UTC offset.
    assert all(not isinstance(v, uuid.UUID | datetime) for v in stored.values())
    for value in stored.values():
        if isinstance(value, str) and value.startswith("2026-"):
            assert value.endswith("+00:00")
    assert load_payload(action_type, stored) == payload


def test_the_models_schema_offers_every_type() -> None:
    schema = str(output_json_schema())
    for action_type in ACTION_TYPES:
        assert f"'{action_type}'" in schema


def test_an_unknown_type_is_invalid_not_guessed() -> None:
    parsed = parse_action({"type": "delete_everything", "target": "all"})
    assert parsed.type == "delete_everything"
    assert "unknown action type" in getattr(parsed, "reason", "")
