"""/api/v1/auth: sign in, rotate, sign out (tenant users and platform operators)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import ClientAddr, CurrentActor
from app.api.errors import AUTH_ERRORS, COMMON_ERRORS, errors
from app.api.v1.schemas import (
    LoginIn,
    LogoutIn,
    MeOut,
    OperatorLoginIn,
    OperatorTokenOut,
    RefreshIn,
    TokenOut,
)
from app.services import auth as service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=TokenOut,
    responses={**COMMON_ERRORS, **errors(401, 429)},
)
async def login(body: LoginIn, client_addr: ClientAddr) -> TokenOut:
    """An access token (JWT, 15 min) and a refresh token for a member of one
    organisation. Limited per account and per client address (429 + Retry-After)."""
    pair = await service.login(body.tenant, body.email, body.password, client_addr)
    return TokenOut.model_validate(pair)


@router.post(
    "/refresh", response_model=TokenOut, responses={**COMMON_ERRORS, **errors(401)}
)
async def refresh(body: RefreshIn) -> TokenOut:
    """Spend a refresh token for a new pair. Presenting a spent token again ends
    the whole session (every token descended from the same login)."""
    return TokenOut.model_validate(await service.refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=COMMON_ERRORS)
async def logout(body: LogoutIn) -> Response:
    """End the session the refresh token belongs to (user or operator). Unknown
    tokens are accepted silently."""
    await service.logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut, responses=AUTH_ERRORS)
async def me(actor: CurrentActor) -> MeOut:
    """Who the access token speaks for."""
    return MeOut(user_id=actor.user_id, tenant_id=actor.tenant_id, role=actor.role)


@router.post(
    "/operator/login",
    response_model=OperatorTokenOut,
    responses={**COMMON_ERRORS, **errors(401, 429)},
)
async def operator_login(
    body: OperatorLoginIn, client_addr: ClientAddr
) -> OperatorTokenOut:
    """Platform operators: tokens that reach /api/v1/operator only."""
    pair = await service.operator_login(body.email, body.password, client_addr)
    return OperatorTokenOut.model_validate(pair)


@router.post(
    "/operator/refresh",
    response_model=OperatorTokenOut,
    responses={**COMMON_ERRORS, **errors(401)},
)
async def operator_refresh(body: RefreshIn) -> OperatorTokenOut:
    return OperatorTokenOut.model_validate(
        await service.operator_refresh(body.refresh_token)
    )
