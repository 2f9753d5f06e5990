"""/api/v1/admin: an organisation's administrators manage accounts and API keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import AdminActor
from app.api.errors import AUTH_ERRORS, errors
from app.api.v1.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    TenantSettingsIn,
    TenantSettingsOut,
    UserIn,
    UserOut,
)
from app.services import accounts, api_keys, tenant_settings

router = APIRouter(prefix="/admin", tags=["admin"])
ADMIN_ERRORS = {**AUTH_ERRORS, **errors(403)}
BY_ID_ERRORS = {**ADMIN_ERRORS, **errors(404)}


@router.get("/users", response_model=list[UserOut], responses=ADMIN_ERRORS)
async def list_users(actor: AdminActor) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await accounts.list_users(actor)]


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses={**ADMIN_ERRORS, **errors(409)},
)
async def create_user(body: UserIn, actor: AdminActor) -> UserOut:
    """A new account in the caller's organisation (409 if email or handle is
    taken). The handle defaults to the email's local part."""
    user = await accounts.create_user(
        actor,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        handle=body.handle,
    )
    return UserOut.model_validate(user)


@router.post("/users/{user_id}/disable", response_model=UserOut, responses=BY_ID_ERRORS)
async def disable_user(user_id: uuid.UUID, actor: AdminActor) -> UserOut:
    """The account can no longer sign in; its sessions end at their next refresh
    (access tokens live at most 15 minutes)."""
    return UserOut.model_validate(await accounts.set_disabled(actor, user_id, True))


@router.post("/users/{user_id}/enable", response_model=UserOut, responses=BY_ID_ERRORS)
async def enable_user(user_id: uuid.UUID, actor: AdminActor) -> UserOut:
    return UserOut.model_validate(await accounts.set_disabled(actor, user_id, False))


@router.get("/api-keys", response_model=list[ApiKeyOut], responses=ADMIN_ERRORS)
async def list_api_keys(actor: AdminActor) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in await api_keys.list_api_keys(actor)]


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreatedOut,
    responses=ADMIN_ERRORS,
)
async def create_api_key(body: ApiKeyIn, actor: AdminActor) -> ApiKeyCreatedOut:
    """A key for POST /api/v1/events. The key itself is in this response only;
    only its hash is stored."""
    created = await api_keys.create_api_key(actor, body.name)
    out = ApiKeyOut.model_validate(created.key)
    return ApiKeyCreatedOut(**out.model_dump(), key=created.plaintext)


@router.post(
    "/api-keys/{key_id}/revoke", response_model=ApiKeyOut, responses=BY_ID_ERRORS
)
async def revoke_api_key(key_id: uuid.UUID, actor: AdminActor) -> ApiKeyOut:
    """The key stops working at once (revoking twice is harmless)."""
    return ApiKeyOut.model_validate(await api_keys.revoke_api_key(actor, key_id))


@router.get("/settings", response_model=TenantSettingsOut, responses=ADMIN_ERRORS)
async def get_settings(actor: AdminActor) -> TenantSettingsOut:
    """The assistant policy, the monthly token budget, the model and the data
    policy of the organisation."""
    view = await tenant_settings.get_settings_for(actor)
    return TenantSettingsOut.model_validate(view, from_attributes=True)


@router.patch("/settings", response_model=TenantSettingsOut, responses={**ADMIN_ERRORS})
async def update_settings(
    body: TenantSettingsIn, actor: AdminActor
) -> TenantSettingsOut:
    """Change which actions need approval, the purchase threshold, the approving
    role, the monthly token budget, the model or the data policy (audited)."""
    view = await tenant_settings.update_settings(actor, body.model_dump())
    return TenantSettingsOut.model_validate(view, from_attributes=True)
