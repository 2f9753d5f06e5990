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
