"""Errors the domain layer raises; entry points turn them into what a user sees
(the API into {"error", "message"} with a 4xx, Reflex states into a toast)."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Missing and forbidden look the same, so ids are never confirmed."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Invalid(DomainError):
    status = 422
    code = "invalid_request"


class Conflict(DomainError):
    status = 409
    code = "conflict"


# What a user is told when an insert loses a race for a unique key (or repeats an
# existing one), by table; app/core/db.py raises it for every session.
_DUPLICATE_MESSAGES = {
    "users": "A user with this email or handle already exists.",
    "tenants": "An organisation with this slug already exists.",
    "operators": "An operator with this email already exists.",
    "teams": "A team with this name already exists.",
    "properties": "A property with this name already exists.",
    "units": "A unit with this label already exists.",
    "property_services": "A service with this name already exists at the property.",
    "push_subscriptions": "This push subscription already exists.",
    "conversations": "This conversation already exists.",
}


def duplicate(table: str | None) -> Conflict:
    """The Conflict for a unique violation on `table` (None: not known)."""
    return Conflict(_DUPLICATE_MESSAGES.get(table or "", "This already exists."))


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BudgetExceeded(DomainError):
    status = 429
    code = "budget_exceeded"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
