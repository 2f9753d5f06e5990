"""The JSON the model must answer: a reply to the sender and a list of actions.

Everything here is untrusted input (the model can be steered by the message it
reads), so every field has a type, a length limit and a closed set of shapes (the
action shapes come from the registry, app/domain/actions). An action that does not
fit becomes an `InvalidAction` carrying the reason: one bad action is refused on its
own, it never sinks the whole answer or crashes the worker.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from agents.plainwords import explain
from app.domain.actions import ACTION_TYPES, Action, validate_input
from app.domain.limits import MAX_MESSAGE_CHARS

MAX_REPLY = MAX_MESSAGE_CHARS
MAX_ACTIONS = 20


class InvalidAction(BaseModel):
    """An action the model proposed that does not fit the schema: never runs."""

    type: str
    raw: dict[str, Any]
    reason: str


class AssistantOutput(BaseModel):
    """The model's whole answer (this is the schema the prompt shows)."""

    model_config = ConfigDict(extra="ignore")

    reply: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=MAX_REPLY)
    ]
    actions: list[Action] = Field(default_factory=list, max_length=MAX_ACTIONS)


class ParsedOutput(BaseModel):
    """What parsing yields: the reply and each action, valid or not."""

    reply: str
    actions: list[Action | InvalidAction] = Field(default_factory=list)


def _first_error(exc: ValidationError) -> str:
    """The first problem in plain words (the sender reads it in the refusal)."""
    return explain(dict(exc.errors()[0]))


def parse_action(raw: Any) -> Action | InvalidAction:
    """Validate one proposed action; an unknown or malformed one is kept as invalid."""
    if not isinstance(raw, dict):
        return InvalidAction(type="unknown", raw={}, reason="action is not an object")
    kind = raw.get("type")
    kind_s = str(kind)[:40] if kind is not None else "unknown"
    if kind not in ACTION_TYPES:
        return InvalidAction(
            type=kind_s, raw=raw, reason=f"unknown action type {kind_s!r}"
        )
    try:
        return validate_input(raw)
    except ValidationError as exc:
        return InvalidAction(type=kind_s, raw=raw, reason=_first_error(exc))


@functools.lru_cache(maxsize=1)
def _output_schema_json() -> str:
    # Generating the schema walks every action type's model: once per process,
    # not once per turn.
    return json.dumps(AssistantOutput.model_json_schema())


def output_json_schema() -> dict[str, Any]:
    """JSON Schema of AssistantOutput, shown to the model in the prompt (a fresh
    copy each call: callers may change theirs)."""
    schema: dict[str, Any] = json.loads(_output_schema_json())
    return schema


# Keys a grammar compiler turns into huge state machines (a maxLength of 2000 is a
# 2000-state repetition in llama.cpp's GBNF); pydantic checks them afterwards.
_GRAMMAR_HEAVY = frozenset(
    {"maxLength", "minLength", "maxItems", "minItems", "pattern", "maximum", "minimum"}
)


def _lighten(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _lighten(v) for k, v in node.items() if k not in _GRAMMAR_HEAVY}
    if isinstance(node, list):
        return [_lighten(v) for v in node]
    return node


def grammar_schema() -> dict[str, Any]:
    """The answer's schema for JSON-schema output modes: same shape, no limits."""
    out: dict[str, Any] = _lighten(output_json_schema())
    return out
