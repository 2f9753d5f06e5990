"""The action registry: every action type the assistant can propose, declared once.

Each module of this package (but `base`) is one action type and exports `SPEC`
(see base.ActionSpec). They are found here, so adding a type is adding a module
(and its tests); the model's schema, validation, execution, the console's lists
and refusal messages all read this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from app.domain.actions.base import ActionInput, ActionSpec, Payload


def _discover() -> dict[str, ActionSpec[Any, Any]]:
    specs: list[ActionSpec[Any, Any]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, ActionSpec):
            raise TypeError(f"{module.__name__} declares no ActionSpec SPEC")
        specs.append(spec)
    specs.sort(key=lambda s: (s.order, s.type))
    registry = {s.type: s for s in specs}
    if len(registry) != len(specs):
        raise TypeError("two action modules declare the same type")
    return registry


SPECS: dict[str, ActionSpec[Any, Any]] = _discover()
ACTION_TYPES: tuple[str, ...] = tuple(SPECS)
ACTION_LABELS: dict[str, str] = {t: s.label for t, s in SPECS.items()}

if TYPE_CHECKING:
    Action = ActionInput
else:
    # The discriminated union of every input shape: pydantic picks the model by
    # `type` (the JSON schema shown to the model is built from it too).
    Action = Annotated[
        Union[tuple(s.input for s in SPECS.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]
_ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


def spec_for(action_type: str) -> ActionSpec[Any, Any]:
    """The spec of a known type; KeyError for anything else."""
    return SPECS[action_type]


def validate_input(raw: dict[str, Any]) -> ActionInput:
    """One proposed action as its input model (pydantic ValidationError if not)."""
    result: ActionInput = _ACTION_ADAPTER.validate_python(raw)
    return result


def load_payload(action_type: str, stored: dict[str, Any]) -> Payload:
    """A stored resolved payload back as its typed model."""
    result: Payload = spec_for(action_type).payload.model_validate(stored)
    return result


__all__ = [
    "ACTION_LABELS",
    "ACTION_TYPES",
    "SPECS",
    "Action",
    "ActionInput",
    "ActionSpec",
    "Payload",
    "ValidationError",
    "load_payload",
    "spec_for",
    "validate_input",
]
