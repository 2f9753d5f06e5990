"""The answer's JSON Schema as a few lines of text, for the prompt.

The schema itself (agents/schemas.py) is about 1,150 tokens of `$defs`, `anyOf`,
`title` and `additionalProperties`; a model reads the same facts (fields, types,
which are optional, enums, defaults, limits, what each action does) from a
signature line per action at about a quarter of that. Generated from the same
pydantic models, so it cannot drift from what parsing accepts; the full schema
still goes to the provider when the output mode asks for it (tools, json_schema).
"""

from __future__ import annotations

import json
from typing import Any

from agents.schemas import output_json_schema
from app.domain.actions.base import REF_PATTERN

REF = "ref"


def _num(v: float) -> str:
    return f"{int(v)}" if float(v).is_integer() else f"{v:g}"


def _type(node: dict[str, Any]) -> str:
    """One field's type, compactly: string≤200, "a"|"b", [ref] 1-50, number 0-9."""
    if "anyOf" in node:
        kinds = [k for k in node["anyOf"] if k.get("type") != "null"]
        inner = " | ".join(_type(k) for k in kinds)
        return f"{inner} | null" if len(kinds) < len(node["anyOf"]) else inner
    if "enum" in node:
        return "|".join(json.dumps(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "string":
        if node.get("pattern") == REF_PATTERN:
            return REF
        # No length limits: a sensible answer never meets them, parsing checks
        # them, and they cost tokens on every message.
        return "string"
    if kind == "array":
        items = node.get("items") or {}
        # The action union (oneOf over $refs) is spelled out below the object.
        inner = "action" if "oneOf" in items or "$ref" in items else _type(items)
        lo, hi = node.get("minItems"), node.get("maxItems")
        span = f" ({lo}-{hi} items)" if lo and hi else ""
        return f"[{inner}]{span}"
    if kind in ("number", "integer"):
        lo, hi = node.get("minimum"), node.get("maximum")
        if lo is None or hi is None:
            return str(kind)
        return f"{kind} {_num(lo)}-{_num(hi)}"
    return str(kind or "any")


def _fields(obj: dict[str, Any], skip: str = "") -> str:
    required = set(obj.get("required") or [])
    parts = []
    for name, node in (obj.get("properties") or {}).items():
        if name == skip:
            continue
        kind = _type(node)
        if name not in required and node.get("default", 0) is None:
            kind = kind.removesuffix(" | null")  # "?" already says it may be left out
        text = f'"{name}"{"" if name in required else "?"}: {kind}'
        default = node.get("default")
        if default not in (None, "", []):
            text += f" = {json.dumps(default)}"
        if node.get("description"):
            text += f" ({node['description']})"
        parts.append(text)
    return ", ".join(parts)


def answer_format() -> str:
    """The answer's shape: the top-level object, then one line per action type."""
    schema = output_json_schema()
    lines = [
        "{" + _fields(schema) + "}",
        f'Each action is one of these ("?": optional; {REF}: a ref from the context):',
    ]
    for spec in schema.get("$defs", {}).values():
        kind = spec["properties"]["type"]["const"]
        lines.append(
            f'- {{"type": "{kind}", {_fields(spec, skip="type")}}}: '
            f"{spec.get('description', '').strip()}"
        )
    return "\n".join(lines)
