"""Plan limits: what the platform operator allows an organisation (a monthly token
budget and a number of seats), and the one budget rule the assistant applies.

The budget rule: the assistant answers while this month's tokens are below the
organisation's limit, which is the admin's own monthly budget capped by the plan's
(app/services/turns.py checks it, the usage gauge and the operator's page show it).
Seats: active (not disabled) accounts, residents included; creating or re-enabling
an account past them is refused (app/services/accounts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import Conflict, Invalid

MAX_PLAN_BUDGET = 10_000_000_000
MAX_PLAN_SEATS = 1_000_000


class PlanLimitReached(Conflict):
    code = "plan_limit_reached"


@dataclass(frozen=True)
class TokenLimit:
    tokens: int
    # Which limit applies: "plan" (the operator's) or "organisation" (the admin's).
    source: str


def token_limit(monthly_token_budget: int, plan_token_budget: int | None) -> TokenLimit:
    if plan_token_budget is not None and plan_token_budget < monthly_token_budget:
        return TokenLimit(plan_token_budget, "plan")
    return TokenLimit(monthly_token_budget, "organisation")


def check_plan(
    token_budget: int | None, seats: int | None
) -> tuple[int | None, int | None]:
    """The operator's input: whole numbers in range, None for "no limit"."""
    if token_budget is not None and not 0 <= token_budget <= MAX_PLAN_BUDGET:
        raise Invalid("The plan's token budget must be between 0 and 10,000,000,000.")
    if seats is not None and not 1 <= seats <= MAX_PLAN_SEATS:
        raise Invalid("The plan's seats must be between 1 and 1,000,000.")
    return token_budget, seats


def seats_full(seats: int) -> PlanLimitReached:
    return PlanLimitReached(
        f"Your plan has {seats:,} {'seat' if seats == 1 else 'seats'} and all "
        "are taken. Disable an account, or ask the platform operator for more "
        "seats."
    )


def budget_above_plan(plan_token_budget: int) -> Invalid:
    return Invalid(
        f"Your plan allows at most {plan_token_budget:,} tokens a month; "
        "ask the platform operator for a larger plan."
    )
