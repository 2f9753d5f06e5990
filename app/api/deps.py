"""Who is calling: resolved once per request from the Authorization header (or the
X-API-Key header for integrations), then role checks on the entry point."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.core.tokens import (
    OperatorActor,
    actor_from_access_token,
    operator_from_access_token,
)
from app.domain.actor import Actor
from app.domain.errors import Forbidden, Unauthorized
from app.domain.roles import ADMIN_ROLES, APPROVER_ROLES
from app.services import api_keys

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token from POST /api/v1/auth/login (15 min).",
)
api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A tenant's integration key (created by an admin).",
)


def _token(creds: HTTPAuthorizationCredentials | None) -> str:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("Sign in first: send Authorization: Bearer <token>.")
    return creds.credentials


async def current_actor(
    creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    return actor_from_access_token(_token(creds))


async def current_operator(
    creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> OperatorActor:
    return operator_from_access_token(_token(creds))


async def api_key_principal(
    raw: Annotated[str | None, Security(api_key_header)],
) -> api_keys.KeyPrincipal:
    if not raw:
        raise Unauthorized("Send the integration key in the X-API-Key header.")
    return await api_keys.authenticate(raw)


def require_roles(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency: the caller, if their role is one of `roles`; 403 otherwise."""
    allowed = frozenset(roles)

    async def _check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in allowed:
            raise Forbidden("Your role does not allow this.")
        return actor

    return _check


def client_addr(request: Request) -> str:
    """The peer address (a trusted proxy in front should set it, e.g. uvicorn's
    --proxy-headers with --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


CurrentActor = Annotated[Actor, Depends(current_actor)]
ApproverActor = Annotated[Actor, Depends(require_roles(*APPROVER_ROLES))]
AdminActor = Annotated[Actor, Depends(require_roles(*ADMIN_ROLES))]
CurrentOperator = Annotated[OperatorActor, Depends(current_operator)]
ApiKeyPrincipal = Annotated[api_keys.KeyPrincipal, Depends(api_key_principal)]
ClientAddr = Annotated[str, Depends(client_addr)]
