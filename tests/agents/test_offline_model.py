"""The offline model reads only the prompt and extracts intent, people and times.

Phrasings differ from the scenario files on purpose: the model must not depend on
the exact wording of any scenario.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from agents.offline_model import answer
from agents.prompt import PromptMemory, build_messages
from tests.agents.yaml_directory import directory_for, memories_for

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday


def ask(tenant: str, handle: str, text: str, memories: list[str] | None = None) -> Any:
    d = directory_for(tenant, handle)
    mems = memories if memories is not None else memories_for(tenant, handle)
    shown = [PromptMemory(f"m{i + 1}", t) for i, t in enumerate(mems)]
    return json.loads(answer(build_messages(d, shown, [], text, NOW)))


def types(out: Any) -> list[str]:
    return [a["type"] for a in out["actions"]]


def test_relay_with_time_becomes_schedule_for_the_team() -> None:
    out = ask(
        "harbor-bistro",
        "maya",
        "Please remind the front of house to restock napkins tomorrow at 5:30pm",
    )
    (action,) = out["actions"]
    assert action["type"] == "schedule"
    assert action["audience"] == ["team:front-of-house"]
    assert action["start"] == "2026-03-03T17:30"
    assert "napkins" in action["title"].lower()


def test_relay_without_clock_time_is_a_notification_to_the_person() -> None:
    out = ask("maple-court", "dana", "Tell Grace that the lobby needs a mop.")
    (action,) = out["actions"]
    assert action == {
        "type": "notify",
        "recipients": ["user:grace"],
        "message": "The lobby needs a mop.",
    }


def test_resident_problem_becomes_task_and_notification_for_maintenance() -> None:
    out = ask("maple-court", "alice", "The bathroom light in my flat is broken")
    assert types(out) == ["create_task", "notify"]
    task = out["actions"][0]
    assert task["assignee"] == "team:maintenance"
    assert (task["property"], task["unit"]) == ("maple-court-12", "2A")
    assert out["actions"][1]["recipients"] == ["team:maintenance"]


def test_resident_emergency_also_alerts_managers() -> None:
    out = ask("maple-court", "ben", "I can smell gas in the kitchen, smoke everywhere")
    notify = out["actions"][-1]
    assert notify["recipients"] == ["team:maintenance", "role:manager"]
    assert out["actions"][0]["priority"] == "urgent"


def test_employee_report_without_time_goes_to_managers_only() -> None:
    out = ask("harbor-bistro", "sam", "The dishwasher is making a weird noise again.")
    assert out["actions"] == [
        {
            "type": "notify",
            "recipients": ["role:manager"],
            "message": "Sam Okafor: The dishwasher is making a weird noise again.",
        }
    ]


def test_employee_report_with_time_adds_a_task_for_their_team() -> None:
    out = ask("harbor-bistro", "sam", "FYI the fish supplier comes Thursday at 6am")
    task = out["actions"][0]
    assert task["type"] == "create_task"
    assert task["assignee"] == "team:kitchen"
    assert task["due"] == "2026-03-05T06:00"


def test_completed_service_is_logged_against_the_named_property() -> None:
    out = ask("maple-court", "omar", "Completed the garden maintenance at Elm House")
    assert out["actions"][0] == {
        "type": "log_service",
        "property": "elm-house-3",
        "service": "Garden maintenance",
        "note": "Completed the garden maintenance at Elm House",
    }


def test_cancel_names_the_service() -> None:
    out = ask("maple-court", "grace", "Please cancel trash pickup at Maple Court")
    assert out["actions"][0]["type"] == "cancel_service"
    assert out["actions"][0]["service"] == "Trash pickup"


def test_question_is_answered_from_memories_without_actions() -> None:
    out = ask("harbor-bistro", "luis", "What temperature should the walk-in be?")
    assert out["actions"] == []
    assert "4°C" in out["reply"]


def test_question_with_nothing_relevant_says_so() -> None:
    out = ask("harbor-bistro", "luis", "Who won the football yesterday?", memories=[])
    assert out["actions"] == []
    assert "don't know" in out["reply"]


def test_unknown_person_stays_an_unknown_reference() -> None:
    # The policy refuses it with a reason; the model must not guess someone else.
    out = ask("riverside-lofts", "rita", "Tell Zoe the boiler is fixed")
    assert out["actions"][0]["recipients"] == ["user:zoe"]


def test_resident_directory_hides_neighbours() -> None:
    # Alice is Ben's neighbour: absent from his prompt, so the best the model can
    # do is an unknown reference, which the policy refuses.
    d = directory_for("maple-court", "ben")
    prompt = build_messages(d, [], [], "Tell Alice her package is here", NOW)
    assert "Alice Moreau" not in prompt[0]["content"]
    assert "elm-house-3" not in prompt[0]["content"]
    out = ask("maple-court", "ben", "Tell Alice her package is at my door")
    assert out["actions"][0]["recipients"] == ["user:alice"]
    assert d.person("alice") is None


@pytest.mark.parametrize("text", ["hi", "Thanks!", "ok"])
def test_small_talk_proposes_nothing(text: str) -> None:
    assert ask("harbor-bistro", "luis", text)["actions"] == []


def test_garbled_prompt_still_answers_json() -> None:
    out = json.loads(answer([{"role": "user", "content": "hello"}]))
    assert out == {"reply": "I could not read my instructions.", "actions": []}


def test_when_question_prefers_the_standing_fact_over_chatter() -> None:
    out = ask(
        "harbor-bistro",
        "sam",
        "When does the produce delivery usually come?",
        memories=[
            "Integration said on 2026-11-25: GreenFarm produce delivery arriving "
            "tomorrow, 12 crates.",
            "Task created for team:kitchen: The GreenFarm produce delivery is here",
            "Luis Ortega said on 2026-11-20: the produce delivery was late again",
            "GreenFarm delivers produce every Thursday at 7am; the kitchen lead signs.",
        ],
    )
    assert out["reply"].startswith("Here is what I know: GreenFarm delivers produce")


@pytest.mark.parametrize(
    ("handle", "text", "kinds"),
    [
        ("priya", "The dishwasher broke, can someone fix it?", ["notify"]),
        ("priya", "Can someone fix the bar tap?", ["notify"]),
        ("maya", "Could you ask Sam to close up tonight?", ["notify"]),
        ("sam", "When is the produce delivery?", []),
        ("sam", "Can you tell me when the produce comes?", []),
    ],
)
def test_requests_phrased_as_questions_still_act(
    handle: str, text: str, kinds: list[str]
) -> None:
    assert types(ask("harbor-bistro", handle, text)) == kinds


async def test_offline_usage_is_counted_with_a_real_tokenizer() -> None:
    import litellm

    from agents.provider import TOKENIZER_MODEL, register_providers

    register_providers()
    d = directory_for("harbor-bistro", "maya")
    # Short words: about one token each, where characters / 4 would say half.
    text = "we are out of " + " ".join(["ice"] * 120)
    messages = build_messages(d, [], [], text, NOW)
    response = await litellm.acompletion(model="switchboard/offline", messages=messages)
    usage = response.usage
    assert usage.prompt_tokens == litellm.token_counter(
        model=TOKENIZER_MODEL, messages=messages
    )
    reply = response.choices[0].message.content
    assert usage.completion_tokens == litellm.token_counter(
        model=TOKENIZER_MODEL, text=reply, count_response_tokens=True
    )
    chars = sum(len(m["content"]) for m in messages)
    assert usage.prompt_tokens != chars // 4


def test_a_note_marked_confidential_is_never_quoted_in_an_answer() -> None:
    # A resident asking about the door code gets the public fact, never the code.
    out = ask(
        "riverside-lofts",
        "ben",
        "What is the door code for the contractors?",
        memories=[
            "The contractor door code is 4471 (confidential).",
            "Contractors sign in at the concierge desk by the door.",
        ],
    )
    assert out["actions"] == []
    assert "4471" not in out["reply"]
    assert "concierge" in out["reply"]


async def test_the_built_in_models_are_priced_at_zero_in_litellms_cost_map() -> None:
    """Known to litellm's cost map: the cost of a built-in call is a plain $0
    lookup, not a miss after its name-generalisation fallback."""
    import litellm

    from agents.provider import register_providers

    register_providers()
    for model in ("switchboard/offline", "switchboard/minilm"):
        info = litellm.get_model_info(model)
        assert info["input_cost_per_token"] == 0.0
        assert info["output_cost_per_token"] == 0.0
    response = await litellm.acompletion(
        model="switchboard/offline", messages=[{"role": "user", "content": "hi"}]
    )
    assert litellm.completion_cost(completion_response=response) == 0.0
    # Real providers keep their own prices.
    assert litellm.get_model_info("gpt-4o-mini")["input_cost_per_token"] > 0
