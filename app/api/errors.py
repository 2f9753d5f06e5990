"""One error shape for every API failure: {"error": code, "message": text}.

Domain errors (app/domain/errors.py) become their 4xx; request validation errors
become 422 in the same shape; anything unexpected is logged with its trace and
answered with a bare 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import DomainError, RateLimited

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    error: str
    message: str


class ApiError(HTTPException):
    """Raise from a route: ApiError(404, "not_found", "No such task")."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code


_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
}

_DESCRIPTIONS = {
    400: "Malformed request body (not UTF-8 / not parseable)",
    401: "Missing, invalid or expired credentials",
    403: "Your role does not allow this",
    404: "Not found (also: another organisation's object)",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid request (validation failed)",
    429: "Too many requests; see Retry-After",
    500: "Unexpected server error (details are only logged)",
    503: "PostgreSQL or Redis briefly unavailable; see Retry-After",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message}, status_code=status, headers=headers
    )


def install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, int(exc.retry_after_s)))}
        return error_response(exc.status, exc.code, exc.message, headers)

    @api.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or _DEFAULT_CODES.get(
            exc.status_code, "error"
        )
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, message, headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field locations and pydantic's messages only: never echo the input back.
        problems: list[str] = []
        for err in exc.errors()[:5]:
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
        return error_response(422, "invalid_request", "; ".join(problems))

    # PostgreSQL or Redis down or restarting: a clear, retryable answer at once,
    # never a hang or a 500 (the pool reconnects by itself once they are back).
    for outage in (
        OperationalError,
        InterfaceError,
        RedisConnectionError,
        RedisTimeoutError,
        ConnectionError,
    ):

        @api.exception_handler(outage)
        async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
            log.warning("dependency unavailable", exc_info=exc)
            return error_response(
                503,
                "unavailable",
                "The service is briefly unavailable; please try again in a moment.",
                {"Retry-After": "5"},
            )

    @api.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(
            500, "internal_error", "Something went wrong on our side."
        )


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the ErrorBody shape."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        if code == 429:
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds until the limit resets.",
                    "schema": {"type": "integer"},
                }
            }
        out[code] = entry
    return out


# Every API route can answer these (bad input, oversized body, a bug).
COMMON_ERRORS = errors(400, 413, 422, 500, 503)
# Routes behind a bearer token or API key.
AUTH_ERRORS = {**COMMON_ERRORS, **errors(401)}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = errors(*_DESCRIPTIONS)
