"""What one assistant turn decided: the shapes the runner returns and the worker
persists (app/services/turns.py). No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["allow", "deny", "needs_approval"]


@dataclass
class Proposal:
    """One proposed action after validation, in the shape execution runs."""

    type: str
    payload: dict[str, Any]  # resolved: ids inside the tenant, UTC times
    decision: Decision
    reason: str = ""
    required_role: str | None = None
    # A fixed word for the kind of refusal (app/domain/actions/base.py Refused)
    reason_code: str = ""
    summary: str = ""


@dataclass
class Usage:
    """One model call's cost, recorded per message and per tenant."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    purpose: str = "chat"


@dataclass
class TurnPlan:
    reply: str
    proposals: list[Proposal] = field(default_factory=list)
    retrieved_memory_ids: list[str] = field(default_factory=list)
    # [{"id", "scope", "score"}] for the audit chain; the prompt as sent.
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    prompt: list[dict[str, str]] = field(default_factory=list)
    memories_withheld: bool = False
    usage: list[Usage] = field(default_factory=list)
    error: str | None = None
    # Keyword arguments for agents.retrieval.remember, written with the results.
    memories: list[dict[str, Any]] = field(default_factory=list)
