"""Per-tenant API keys for integrations posting inbound events.

A key reads `sbk_<tenant_id>.<secret>`: the tenant id lets the server open that
tenant's session (no cross-tenant lookup); only a SHA-256 of the whole key is
stored, with a short display prefix. Admins create and revoke keys; the plaintext
is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlmodel import col, select

from app.core.db import platform_session, tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.errors import Invalid, Unauthorized
from app.domain.models import ApiKey, Tenant, utcnow
from app.services import audit
from app.services.access import access_api_key

KEY_PREFIX = "sbk_"
MAX_KEY_LEN = 200
BAD_KEY = "Invalid API key."


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str


@dataclass(frozen=True)
class KeyPrincipal:
    tenant_id: uuid.UUID
    api_key_id: uuid.UUID

    @property
    def ref(self) -> str:
        return f"apikey:{self.api_key_id}"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_api_key(actor: Actor, name: str) -> CreatedKey:
    require_admin(actor, "manage API keys")
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("The name must have 1-100 characters.")
    secret = secrets.token_urlsafe(32)
    plaintext = f"{KEY_PREFIX}{actor.tenant_id}.{secret}"
    async with tenant_session(actor.tenant_id) as s:
        key = ApiKey(
            tenant_id=actor.tenant_id,
            name=name,
            prefix=f"{KEY_PREFIX}{secret[:8]}",
            key_hash=_hash(plaintext),
            created_by=actor.user_id,
        )
        s.add(key)
        await s.flush()
        audit.record(
            s, actor.tenant_id, actor.ref, "apikey.created", f"apikey:{key.id}"
        )
    return CreatedKey(key, plaintext)


async def list_api_keys(actor: Actor) -> list[ApiKey]:
    require_admin(actor, "manage API keys")
    async with tenant_session(actor.tenant_id) as s:
        rows = await s.exec(
            select(ApiKey)
            .where(ApiKey.tenant_id == actor.tenant_id)
            .order_by(col(ApiKey.created_at))
        )
        return list(rows.all())


async def revoke_api_key(actor: Actor, key_id: uuid.UUID) -> ApiKey:
    require_admin(actor, "manage API keys")
    async with tenant_session(actor.tenant_id) as s:
        key = await access_api_key(s, actor, key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            s.add(key)
            audit.record(
                s, actor.tenant_id, actor.ref, "apikey.revoked", f"apikey:{key.id}"
            )
    return key


async def authenticate(raw: str) -> KeyPrincipal:
    """The tenant and key a raw API key stands for; Unauthorized otherwise."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX) or len(raw) > MAX_KEY_LEN or raw.count(".") != 1:
        raise Unauthorized(BAD_KEY)
    head, _ = raw[len(KEY_PREFIX) :].split(".")
    try:
        tenant_id = uuid.UUID(head)
    except ValueError as exc:
        raise Unauthorized(BAD_KEY) from exc
    async with platform_session() as ps:
        tenant = await ps.get(Tenant, tenant_id)
    if tenant is None or tenant.status != "active":
        raise Unauthorized(BAD_KEY)
    async with tenant_session(tenant_id) as s:
        key = (
            await s.exec(
                select(ApiKey).where(
                    ApiKey.tenant_id == tenant_id,
                    ApiKey.key_hash == _hash(raw),
                    col(ApiKey.revoked_at).is_(None),
                )
            )
        ).first()
        if key is None:
            raise Unauthorized(BAD_KEY)
        key.last_used_at = utcnow()
        s.add(key)
        return KeyPrincipal(tenant_id=tenant_id, api_key_id=key.id)
