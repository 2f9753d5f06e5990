"""The JSON the model must answer: a reply to the sender and a list of actions.

Everything here is untrusted input (the model can be steered by the message it
reads), so every field has a type, a length limit and a closed set of shapes. An
action that does not fit becomes an `InvalidAction` carrying the reason: one bad
action is refused on its own, it never sinks the whole answer or crashes the worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

MAX_REPLY = 4000
MAX_ACTIONS = 20
MAX_RECIPIENTS = 50
MAX_TITLE = 200
MAX_TEXT = 2000
MAX_SLUG = 63

# user:<handle>, team:<slug>, role:<role>, property:<slug>. Handles and slugs are
# lowercase words with - _ . inside; anything else (spaces, ids, other tenants'
# display names) is not a reference.
REF_PATTERN = r"^(user|team|role|property):[a-z0-9][a-z0-9_.-]{0,62}$"
Ref = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=REF_PATTERN)
]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_SLUG)]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


def _check_local_iso(value: str | None) -> str | None:
    """Times are tenant-local ISO 8601 (2026-03-03T07:00); the policy converts."""
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO date-time: {value[:40]!r}") from exc
    return value


class _Action(BaseModel):
    # Extra keys are an error: a field the schema does not know is not silently
    # dropped (it could be an attempt to smuggle something past validation).
    model_config = ConfigDict(extra="forbid")


class NotifyAction(_Action):
    """Send a message to people."""

    type: Literal["notify"]
    recipients: list[Ref] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    message: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ]


class CreateTaskAction(_Action):
    """Create a task for a person or team (does not notify anyone by itself)."""

    type: Literal["create_task"]
    title: Title
    details: Text = ""
    assignee: Ref | None = None
    due: Short | None = Field(default=None, description="tenant-local ISO or null")
    property: Slug | None = None
    unit: Unit | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    cost: float | None = Field(default=None, ge=0, le=10_000_000)

    _due = field_validator("due")(_check_local_iso)


class ScheduleAction(_Action):
    """Put an entry in the calendar for an audience (does not notify by itself)."""

    type: Literal["schedule"]
    title: Title
    start: Short = Field(description="tenant-local ISO date-time")
    audience: list[Ref] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    property: Slug | None = None
    unit: Unit | None = None
    kind: Literal[
        "event", "reminder", "service", "entry_permission", "delivery", "meeting"
    ] = "event"

    _start = field_validator("start")(_check_local_iso)


class LogServiceAction(_Action):
    """Record that a property service was performed."""

    type: Literal["log_service"]
    property: Slug
    service: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    note: Text = ""


class CancelServiceAction(_Action):
    """Cancel one occurrence or a period of a property service."""

    type: Literal["cancel_service"]
    property: Slug
    service: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    when: Short | None = None
    reason: Text = ""


Action = Annotated[
    NotifyAction
    | CreateTaskAction
    | ScheduleAction
    | LogServiceAction
    | CancelServiceAction,
    Field(discriminator="type"),
]
ACTION_TYPES: tuple[str, ...] = (
    "notify",
    "create_task",
    "schedule",
    "log_service",
    "cancel_service",
)
_ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


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
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ACTION_TYPES)
    msg = str(err.get("msg", "invalid"))
    return f"{where}: {msg}" if where else msg


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
        return _ACTION_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        return InvalidAction(type=kind_s, raw=raw, reason=_first_error(exc))


def output_json_schema() -> dict[str, Any]:
    """JSON Schema of AssistantOutput, shown to the model in the prompt."""
    return AssistantOutput.model_json_schema()
