"""The prompt holds the sender's directory, memories and time, and nothing else."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from agents.prompt import (
    HISTORY_BUDGET_CHARS,
    MAX_HISTORY_CHARS,
    MAX_UNITS_LISTED,
    MEMORY_BUDGET_CHARS,
    PromptMemory,
    build_messages,
    memories_within_budget,
    parse_context,
    recent_history,
)
from agents.provider import count_prompt_tokens
from agents.schema_text import answer_format
from agents.schemas import output_json_schema
from app.domain.directory import Directory, Person
from tests.agents.yaml_directory import directory_for

NOW = datetime(2026, 3, 2, 9, 0)


def test_context_round_trips_and_lists_refs() -> None:
    d = directory_for("harbor-bistro", "maya")
    msgs = build_messages(
        d,
        [PromptMemory("m1", "GreenFarm delivers on Thursday")],
        [("user", "earlier"), ("assistant", "reply")],
        "now this",
        NOW,
    )
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    ctx = parse_context(msgs)
    assert ctx is not None
    assert ctx["now"] == "2026-03-02T09:00"
    assert ctx["sender"]["ref"] == "user:maya"
    assert {t["ref"] for t in ctx["teams"]} == {
        "team:kitchen",
        "team:front-of-house",
        "team:management",
    }
    assert ctx["memories"] == [{"id": "m1", "text": "GreenFarm delivers on Thursday"}]
    assert '{"type": "notify", ' in msgs[0]["content"]  # the answer's format
    # The answer's format is shown to the model.
    assert '"reply"' in msgs[0]["content"]


def test_database_ids_never_reach_the_model() -> None:
    d = directory_for("maple-court", "dana")
    content = build_messages(d, [], [], "x", NOW)[0]["content"]
    assert str(d.sender.id) not in content
    assert str(d.tenant.id) not in content


def test_resident_prompt_has_staff_and_self_only() -> None:
    ctx = parse_context(
        build_messages(directory_for("maple-court", "ben"), [], [], "x", NOW)
    )
    assert ctx is not None
    handles = {p["ref"] for p in ctx["people"]}
    assert handles == {"user:admin", "user:dana", "user:grace", "user:omar", "user:ben"}
    assert [p["ref"] for p in ctx["properties"]] == ["property:maple-court-12"]


def test_answer_format_has_every_action_and_field() -> None:
    text = answer_format()
    schema = output_json_schema()
    for spec in schema["$defs"].values():
        kind = spec["properties"]["type"]["const"]
        (line,) = [x for x in text.splitlines() if f'"type": "{kind}"' in x]
        for name in spec["properties"]:
            if name == "type":
                continue
            marker = f'"{name}": ' if name in spec["required"] else f'"{name}"?: '
            assert marker in line, (kind, name)
    assert '"reply": string, "actions"?: [action]' in text
    assert '"priority"?: "low"|"normal"|"high"|"urgent" = "normal"' in text
    assert '"recipients": [ref] (1-50 items)' in text


def _refs(ctx: dict[str, Any] | None) -> set[str]:
    assert ctx is not None
    return {p["ref"] for p in ctx["people"]}


def test_staff_prompt_lists_residents_only_when_named() -> None:
    d = directory_for("maple-court", "dana")
    staff = {"user:admin", "user:dana", "user:grace", "user:omar"}
    plain = parse_context(build_messages(d, [], [], "Any news today?", NOW))
    assert _refs(plain) == staff
    assert plain is not None and "role:resident" in plain["roles"]
    by_name = parse_context(build_messages(d, [], [], "Tell alice it's fixed", NOW))
    assert _refs(by_name) == staff | {"user:alice"}
    by_unit = parse_context(build_messages(d, [], [], "Leak above unit 4B!", NOW))
    assert _refs(by_unit) == staff | {"user:ben"}
    # Named earlier in the conversation: "tell her" still resolves.
    history = [("user", "Tom called about the heating"), ("assistant", "Noted.")]
    follow = parse_context(build_messages(d, [], history, "tell him it's done", NOW))
    assert _refs(follow) == staff | {"user:tom"}


def _with_units(d: Directory, n: int) -> Directory:
    prop = d.properties[0]
    units = {str(100 + i): uuid.uuid4() for i in range(n)}
    return replace(d, properties=(replace(prop, units=units), *d.properties[1:]))


def test_large_property_lists_only_the_units_named() -> None:
    d = directory_for("maple-court", "dana")
    few = parse_context(
        build_messages(_with_units(d, MAX_UNITS_LISTED), [], [], "x", NOW)
    )
    assert few is not None and len(few["properties"][0]["units"]) == MAX_UNITS_LISTED
    many = _with_units(d, 300)
    ctx = parse_context(build_messages(many, [], [], "Water leak in 217 and 305", NOW))
    assert ctx is not None and ctx["properties"][0]["units"] == ["217", "305"]


def test_history_is_cut_to_the_budget_newest_first() -> None:
    long = "x" * (HISTORY_BUDGET_CHARS // 3 + 100)
    history = [("user", "oldest"), ("assistant", long), ("user", long)]
    kept = recent_history([*history, ("assistant", long), ("user", "new")])
    assert kept == [("user", long), ("assistant", long), ("user", "new")]
    assert recent_history([("user", "y" * 5000)]) == [("user", "y" * MAX_HISTORY_CHARS)]


def test_memories_are_cut_to_the_budget_best_first() -> None:
    long = PromptMemory("m1", "x" * (MEMORY_BUDGET_CHARS + 50))
    short = [PromptMemory(f"m{i}", "y" * 100) for i in range(2, 12)]
    assert memories_within_budget([long, *short]) == [long]
    kept = memories_within_budget(short)
    assert kept == short[: MEMORY_BUDGET_CHARS // 100]


def test_prompt_of_a_300_unit_manager_stays_within_budget() -> None:
    """The issue's target (prompt p95 <= 1,500 tokens) for the larger profile: a
    manager of 300 residents, six memories of two sentences and one turn of
    history (the whole directory was over 5,000 tokens)."""
    d = directory_for("maple-court", "dana")
    prop = d.properties[0]
    residents = tuple(
        Person(
            uuid.uuid4(),
            f"res{i}",
            f"Resident{i} Family{i}",
            "resident",
            property=prop.slug,
            unit=str(100 + i),
        )
        for i in range(300)
    )
    big = replace(_with_units(d, 300), people=d.people + residents)
    memories = [
        PromptMemory(f"m{i}", "A fairly long memory about the building. " * 2)
        for i in range(1, 7)
    ]
    history = [("user", "Is the boiler fixed? " * 10), ("assistant", "Yes. " * 40)]
    msgs = build_messages(big, memories, history, "Tell Resident7 the lift works", NOW)
    ctx = parse_context(msgs)
    assert ctx is not None and "user:res7" in _refs(ctx)
    assert count_prompt_tokens(msgs) <= 1500
