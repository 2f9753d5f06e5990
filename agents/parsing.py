"""Model text → ParsedOutput, or OutputInvalid with a reason; one repair prompt.

The whole answer must be a JSON object with a string `reply` and a list `actions`;
models sometimes wrap it in a ```json fence or a sentence, so the first balanced
object is taken. Each action is validated on its own (schemas.parse_action): a bad
action is refused alone, a bad answer as a whole gets one repair retry.
"""

from __future__ import annotations

import json
from typing import Any

from agents.schemas import MAX_ACTIONS, MAX_REPLY, ParsedOutput, parse_action

# Far above any honest answer (20 actions of a few hundred characters each): an
# answer this large is a runaway generation or an attack, not something to parse.
MAX_OUTPUT_CHARS = 32_000


class OutputInvalid(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _extract_object(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        if stripped.lower().startswith("json"):
            stripped = stripped[4:]
    # strict=False: raw newlines and tabs inside strings, which small models
    # write, are read as the characters they are.
    try:
        return json.loads(stripped, strict=False)
    except json.JSONDecodeError:
        pass
    start = stripped.find("{")
    if start < 0:
        raise OutputInvalid("the answer is not JSON")
    try:
        obj, _ = json.JSONDecoder(strict=False).raw_decode(stripped[start:])
    except json.JSONDecodeError as exc:
        raise OutputInvalid(f"the answer is not valid JSON ({exc.msg})") from exc
    return obj


def parse_output(text: str | None) -> ParsedOutput:
    """Parse and validate the model's answer. Raises OutputInvalid with a reason."""
    if text is None or not text.strip():
        raise OutputInvalid("the answer is empty")
    if len(text) > MAX_OUTPUT_CHARS:
        raise OutputInvalid(f"the answer is too long ({len(text)} characters)")
    obj = _extract_object(text)
    if not isinstance(obj, dict):
        raise OutputInvalid("the answer is not a JSON object")
    reply = obj.get("reply")
    if not isinstance(reply, str):
        raise OutputInvalid("`reply` must be a string")
    if len(reply) > MAX_REPLY:
        raise OutputInvalid(f"`reply` is longer than {MAX_REPLY} characters")
    actions = obj.get("actions", [])
    if actions is None:
        actions = []
    if not isinstance(actions, list):
        raise OutputInvalid("`actions` must be a list")
    if len(actions) > MAX_ACTIONS:
        raise OutputInvalid(f"more than {MAX_ACTIONS} actions")
    return ParsedOutput(reply=reply.strip(), actions=[parse_action(a) for a in actions])


def repair_messages(
    messages: list[dict[str, str]], bad_text: str | None, reason: str
) -> list[dict[str, str]]:
    """The conversation plus the bad answer and a request to fix it (one retry)."""
    shown = (bad_text or "")[:MAX_REPLY]
    return [
        *messages,
        {"role": "assistant", "content": shown},
        {
            "role": "user",
            "content": (
                f"Your previous answer was rejected: {reason}. Answer again with "
                "only one JSON object with the keys `reply` (string) and `actions` "
                "(list), following the schema given above. No other text."
            ),
        },
    ]
