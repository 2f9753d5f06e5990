"""Validation errors in plain words: the one place a pydantic error becomes a
sentence a sender reads ("the message was empty", not "message: String should
have at least 1 character").

The refusal line is "I could not <verb>: <reason>.", so each reason says what was
wrong with the proposal in words a resident understands; the raw error stays in
the logs and the audit record.
"""

from __future__ import annotations

from typing import Any

# Field names as a person would say them.
_FIELDS = {
    "message": "the message",
    "recipients": "who to tell",
    "audience": "who it is for",
    "title": "the title",
    "details": "the details",
    "start": "the time",
    "due": "the due time",
    "when": "the date",
    "assignee": "who should do it",
    "property": "the building",
    "unit": "the unit",
    "service": "the service",
    "priority": "the priority",
    "cost": "the amount",
    "note": "the note",
    "reason": "the reason",
    "kind": "the kind of entry",
}


def field_words(loc: tuple[Any, ...]) -> str:
    """("notify", "recipients", 0) → "who to tell"."""
    names = [str(p) for p in loc if isinstance(p, str)]
    for name in reversed(names):
        if name in _FIELDS:
            return _FIELDS[name]
    return "part of the request"


def explain(err: dict[str, Any]) -> str:
    """One pydantic error (ValidationError.errors() item) as a plain reason."""
    what = field_words(tuple(err.get("loc", ())))
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in ("missing", "none_required"):
        return f"{what} was missing"
    if kind in ("string_too_short", "too_short"):
        return f"{what} was empty"
    if kind == "string_too_long":
        return f"{what} was too long (at most {ctx.get('max_length', '?')} characters)"
    if kind == "too_long":
        return f"{what} had too many entries"
    if kind == "string_pattern_mismatch":
        if what in ("who to tell", "who it is for", "who should do it"):
            return "I could not tell who that is"
        return f"{what} was not in a form I understand"
    if kind == "extra_forbidden":
        return "the request had a part I do not understand"
    if kind in ("literal_error", "enum"):
        return f"{what} is not one I know"
    if kind == "value_error" and what in ("the time", "the due time", "the date"):
        return f"I could not read {what}"
    if kind.startswith(("greater_than", "less_than")):
        return f"{what} is out of range"
    if kind.startswith(("float", "int", "string", "bool", "list", "dict")):
        return f"{what} was not in a form I understand"
    return f"I did not understand {what}"
