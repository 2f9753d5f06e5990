"""Coherence: does a proposed action belong to the message at all?

Permission is the policy's job; this catches what is allowed but is junk, the
kind a small model writes when it copies the schema instead of the message: a
task titled "Type", a notification whose text is "string" or "...". Such an
action becomes an InvalidAction with a plain reason, so it is refused on its own
and the sender is told.
"""

from __future__ import annotations

import re

from agents.schemas import InvalidAction, output_json_schema
from app.domain.actions import Action


def _schema_words() -> frozenset[str]:
    """Every key and type name of the answer's schema: placeholder text."""
    words: set[str] = {"string", "null", "none", "example", "text", "todo", "tbd"}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                words.add(str(key).lower())
                if key in ("type", "title", "const") and isinstance(value, str):
                    words.add(value.lower())
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(output_json_schema())
    return frozenset(words)


_PLACEHOLDERS = _schema_words()
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
# The free-text field of each action type that must say something.
_TEXT_FIELDS = {"create_task": "title", "schedule": "title", "notify": "message"}


def _placeholder(text: str) -> bool:
    cleaned = text.strip().strip(".…<>[]{}\"'`").strip().lower()
    return not _LETTERS.search(cleaned) or cleaned in _PLACEHOLDERS


def check_coherence(action: Action | InvalidAction) -> Action | InvalidAction:
    """The action, or an InvalidAction saying why it does not fit the message."""
    if isinstance(action, InvalidAction):
        return action
    field = _TEXT_FIELDS.get(action.type)
    value = getattr(action, field, None) if field else None
    if isinstance(value, str) and _placeholder(value):
        return InvalidAction(
            type=action.type,
            raw=action.model_dump(mode="json"),
            reason=f"its {field} ({value.strip()[:40]!r}) says nothing about your "
            "message",
        )
    return action
