"""Model output parsing: untrusted text → a reply and validated actions."""

from __future__ import annotations

import json

import pytest

from agents.coherence import check_coherence
from agents.parsing import (
    MAX_OUTPUT_CHARS,
    OutputInvalid,
    parse_output,
    repair_messages,
)
from agents.schemas import InvalidAction, grammar_schema, parse_action
from app.domain.actions.notify import NotifyAction


def test_plain_json_object() -> None:
    out = parse_output(
        json.dumps(
            {
                "reply": " ok ",
                "actions": [
                    {"type": "notify", "recipients": ["user:sam"], "message": "hi"}
                ],
            }
        )
    )
    assert out.reply == "ok"
    assert isinstance(out.actions[0], NotifyAction)


def test_fenced_json_and_leading_prose_are_accepted() -> None:
    assert parse_output('```json\n{"reply": "a", "actions": []}\n```').reply == "a"
    assert parse_output('Sure! {"reply": "b"} hope that helps').reply == "b"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("I will notify everyone!", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"actions": []}', "`reply` must be a string"),
        ('{"reply": "x", "actions": {"type": "notify"}}', "`actions` must be a list"),
        ('{"reply": "x", "actions": [' + ",".join(["{}"] * 21) + "]}", "more than 20"),
        ("x" * (MAX_OUTPUT_CHARS + 1), "too long"),
    ],
)
def test_invalid_answers_raise_with_reason(text: str, reason: str) -> None:
    with pytest.raises(OutputInvalid) as err:
        parse_output(text)
    assert reason in err.value.reason


def test_one_bad_action_does_not_sink_the_others() -> None:
    out = parse_output(
        json.dumps(
            {
                "reply": "x",
                "actions": [
                    "not an object",
                    {"type": "delete_tenant"},
                    {"type": "notify", "recipients": ["team:kitchen"], "message": "m"},
                ],
            }
        )
    )
    assert [type(a).__name__ for a in out.actions] == [
        "InvalidAction",
        "InvalidAction",
        "NotifyAction",
    ]
    bad = out.actions[1]
    assert isinstance(bad, InvalidAction)
    assert bad.reason == "unknown action type 'delete_tenant'"


def test_repair_prompt_quotes_the_reason() -> None:
    msgs = repair_messages([{"role": "user", "content": "q"}], "oops", "not JSON")
    assert msgs[-2] == {"role": "assistant", "content": "oops"}
    assert "not JSON" in msgs[-1]["content"]


def test_raw_newlines_inside_strings_are_read() -> None:
    out = parse_output('{"reply": "Line one\nline two", "actions": []}')
    assert out.reply == "Line one\nline two"


def test_grammar_schema_has_no_length_limits() -> None:
    text = json.dumps(grammar_schema())
    assert "maxLength" not in text and "pattern" not in text
    assert "notify" in text  # same shapes


@pytest.mark.parametrize(
    ("raw", "coherent"),
    [
        ({"type": "create_task", "title": "Type"}, False),
        ({"type": "create_task", "title": "string"}, False),
        ({"type": "notify", "recipients": ["user:sam"], "message": "..."}, False),
        ({"type": "schedule", "title": "title", "start": "2026-03-03T09:00"}, False),
        ({"type": "create_task", "title": "Fix the tap"}, True),
        ({"type": "notify", "recipients": ["user:sam"], "message": "hi"}, True),
    ],
)
def test_placeholder_text_is_refused_as_incoherent(
    raw: dict[str, object], coherent: bool
) -> None:
    checked = check_coherence(parse_action(raw))
    assert isinstance(checked, InvalidAction) is not coherent
    if not coherent:
        assert "says nothing about your message" in checked.reason  # type: ignore[union-attr]
