"""Property-based checks of the action validator: whatever JSON the model returns,
nothing runs unless it is valid, nothing names a person, team, property, unit or
service of another tenant, and a resident never acts on another unit.

The directories are the demo organisations (tests/agents/yaml_directory.py), whose
ids are derived from each tenant's own slug: an id of another tenant can only
appear in a payload if the validator let it through. `make soak` runs more
examples (SOAK_TRIALS).
"""

from __future__ import annotations

import functools
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agents.policy import TenantPolicy, validate
from agents.schemas import parse_action
from app.domain.actions import ACTION_TYPES, load_payload
from app.domain.directory import Directory
from app.services.seed import load_demo
from tests.agents.yaml_directory import directory_for

pytestmark = [pytest.mark.reliability, pytest.mark.isolation]
NOW = datetime(2026, 3, 2, 9, 0)
EXAMPLES = int(os.environ.get("SOAK_TRIALS") or 0) * 50 or 400
TENANTS = load_demo()["tenants"]
SENDERS = [(t["slug"], u["handle"]) for t in TENANTS for u in t["users"]]
# Every name any tenant uses: the model may name any of them, from any tenant.
HANDLES = sorted({u["handle"] for t in TENANTS for u in t["users"]})
TEAMS = sorted({tm["slug"] for t in TENANTS for tm in t.get("teams", [])})
PROPERTIES = sorted({p["slug"] for t in TENANTS for p in t.get("properties", [])})
UNITS = sorted(
    {str(u) for t in TENANTS for p in t.get("properties", []) for u in p["units"]}
)
SERVICES = sorted(
    {
        s["name"]
        for t in TENANTS
        for p in t.get("properties", [])
        for s in p.get("services", [])
    }
)
ROLES = ["admin", "manager", "employee", "resident", "operator"]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
any_json = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
refs = (
    st.sampled_from([f"user:{h}" for h in HANDLES])
    | st.sampled_from([f"team:{t}" for t in TEAMS])
    | st.sampled_from([f"role:{r}" for r in ROLES])
    | st.sampled_from([f"property:{p}" for p in PROPERTIES])
    | st.text(max_size=30)
)
in_range = st.builds(
    lambda minutes: (NOW + timedelta(minutes=minutes)).isoformat(),
    st.integers(-60 * 24 * 30, 60 * 24 * 800),
)
local_times = st.one_of(in_range, in_range, st.text(max_size=30))
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "recipients": st.lists(refs, max_size=6),
    "audience": st.lists(refs, max_size=6),
    "assignee": refs | st.none(),
    "message": st.text(max_size=50),
    "title": st.text(max_size=50),
    "details": st.text(max_size=50),
    "note": st.text(max_size=30),
    "reason": st.text(max_size=30),
    "due": local_times | st.none(),
    "start": local_times,
    "when": local_times | st.none(),
    "property": st.sampled_from(PROPERTIES) | st.text(max_size=20) | st.none(),
    "unit": st.sampled_from(UNITS) | st.text(max_size=8) | st.none(),
    "service": st.sampled_from(SERVICES) | st.text(max_size=20),
    "priority": st.sampled_from(["low", "normal", "high", "urgent"]) | st.text(),
    "kind": st.text(max_size=12),
    "cost": st.floats() | st.integers() | st.none(),
}
shaped = st.builds(
    lambda kind, fields, extra: {"type": kind, **fields, **extra},
    st.sampled_from(ACTION_TYPES) | st.text(max_size=12),
    st.fixed_dictionaries({}, optional=FIELDS),
    st.dictionaries(st.text(max_size=8), any_json, max_size=2),
)
words = st.sampled_from(["Fix the sink", "Rent is due", "Parcel", "Door code"])
some = st.none()  # an optional field left null


def _own(any_tenant: list[str], own: list[str]) -> st.SearchStrategy[str]:
    """Mostly the sender's own tenant's names (so that actions get far enough to
    be checked for scope), sometimes any tenant's."""
    mine = st.sampled_from(own) if own else st.sampled_from(any_tenant)
    return st.one_of(mine, mine, st.sampled_from(any_tenant))


def plausible_for(tenant: str) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed actions naming anything of any tenant, biased to the sender's:
    the validator's scope rules, not the schema, have to refuse what is out of
    reach."""
    spec = next(t for t in TENANTS if t["slug"] == tenant)
    props = [p["slug"] for p in spec.get("properties", [])]
    own_refs = _own(
        [f"user:{h}" for h in HANDLES],
        [f"user:{u['handle']}" for u in spec["users"]],
    ) | _own(
        [f"team:{t}" for t in TEAMS],
        [f"team:{t['slug']}" for t in spec.get("teams", [])],
    )
    all_refs = st.one_of(own_refs, own_refs, refs)
    prop = _own(PROPERTIES, props)
    unit = _own(
        UNITS,
        [str(u) for p in spec.get("properties", []) for u in p["units"]],
    )
    service = _own(
        SERVICES,
        [s["name"] for p in spec.get("properties", []) for s in p.get("services", [])],
    )
    kinds: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "notify": {
            "recipients": st.lists(all_refs, min_size=1, max_size=3),
            "message": words,
        },
        "create_task": {
            "title": words,
            "assignee": all_refs | some,
            "due": local_times | some,
            "property": prop | some,
            "unit": unit | some,
        },
        "schedule": {
            "title": words,
            "start": local_times,
            "audience": st.lists(all_refs, max_size=3),
            "property": prop | some,
            "unit": unit | some,
        },
        "log_service": {"property": prop, "service": service},
        "cancel_service": {
            "property": prop,
            "service": service,
            "when": local_times | some,
        },
    }
    return st.one_of(
        *(
            st.fixed_dictionaries({"type": st.just(kind), **fields})
            for kind, fields in kinds.items()
        )
    )


policies = st.sampled_from(
    [{}, {"approval_required": list(ACTION_TYPES)}, {"approver_role": "admin"}]
)


def _ids(value: Any) -> set[uuid.UUID]:
    """Every UUID anywhere in a JSON value."""
    if isinstance(value, dict):
        return set().union(*(_ids(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_ids(v) for v in value)) if value else set()
    if isinstance(value, str) and len(value) == 36:
        try:
            return {uuid.UUID(value)}
        except ValueError:
            return set()
    return set()


def _directory_ids(d: Directory) -> set[uuid.UUID]:
    ids = {p.id for p in d.people} | {t.id for t in d.teams}
    for prop in d.properties:
        ids |= {prop.id, *prop.units.values(), *(s.id for s in prop.services)}
    return ids


@functools.cache
def _directory(tenant: str, handle: str) -> Directory:
    return directory_for(tenant, handle)


def _check(raw: Any, sender: tuple[str, str], policy: dict[str, Any]) -> None:
    d = _directory(*sender)
    proposal = validate(parse_action(raw), d, NOW, TenantPolicy.from_dict(policy))
    event(f"{proposal.type if proposal.decision != 'deny' else ''} {proposal.decision}")
    if proposal.decision == "deny":
        assert proposal.payload == {}
        return
    assert proposal.decision in ("allow", "needs_approval")
    # What runs is the stored payload: it must load as its type's payload.
    load_payload(proposal.type, proposal.payload)
    named = _ids(proposal.payload)
    assert named <= _directory_ids(d), "an id outside the sender's directory"
    me = d.sender
    if me.role == "resident":
        people = {p.id for p in d.people if p.is_staff or p.id == me.id}
        own = d.property(me.property or "")
        assert own is not None
        for key, value in proposal.payload.items():
            if key == "unit_id" and value is not None:
                assert value == str(own.unit_id(me.unit or "")), "another unit"
            if key == "property_id" and value is not None:
                assert value == str(own.id), "another property"
        teams_and_places = {t.id for t in d.teams} | _directory_ids(d) - {
            p.id for p in d.people
        }
        assert named <= people | teams_and_places


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data(), sender=st.sampled_from(SENDERS), policy=policies)
def test_model_shaped_actions_stay_in_the_senders_scope(
    data: st.DataObject, sender: tuple[str, str], policy: dict[str, Any]
) -> None:
    plausible = plausible_for(sender[0])
    raw = data.draw(st.one_of(plausible, plausible, plausible, shaped))
    _check(raw, sender, policy)


@settings(max_examples=EXAMPLES // 4, deadline=None)
@given(raw=any_json, sender=st.sampled_from(SENDERS))
def test_arbitrary_json_is_refused_without_a_payload(
    raw: Any, sender: tuple[str, str]
) -> None:
    _check(raw, sender, {})
