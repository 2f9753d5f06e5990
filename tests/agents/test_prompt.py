"""The prompt holds the sender's directory, memories and time, and nothing else."""

from __future__ import annotations

from datetime import datetime

from agents.prompt import PromptMemory, build_messages, parse_context
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
    assert "notify" in ctx["action_types"]
    # The JSON schema of the answer is shown to the model.
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
