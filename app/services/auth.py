"""Login, refresh, logout: the one place that issues and revokes tokens.

The Reflex UI and the REST API both call these functions.

Refresh tokens are opaque strings `<tenant_id>.<secret>` (operators: `op.<secret>`):
the tenant id lets the server open that tenant's session directly (no cross-tenant
lookup, no RLS bypass); only a SHA-256 of the whole token is stored. Every refresh
rotates the token inside its family; presenting a token that was already used (or
revoked) revokes the whole family and writes an audit event, since one of the two
holders is not the user.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import rate_limit
from app.core.db import platform_session, tenant_session
from app.core.passwords import hash_password, needs_rehash, verify_password
from app.core.settings import get_settings
from app.core.tokens import (
    OperatorActor,
    actor_from_access_token,
    issue_access_token,
    issue_operator_token,
    operator_from_access_token,
)
from app.domain.errors import Forbidden, Unauthorized
from app.domain.models import (
    AuditEvent,
    Operator,
    OperatorRefreshToken,
    RefreshToken,
    Tenant,
    User,
    utcnow,
)

__all__ = [
    "OperatorActor",
    "OperatorTokenPair",
    "TokenPair",
    "actor_from_access_token",
    "login",
    "logout",
    "operator_from_access_token",
    "operator_login",
    "operator_logout",
    "operator_refresh",
    "refresh",
]

log = logging.getLogger(__name__)

BAD_LOGIN = "Wrong organisation, email or password."
SUSPENDED = "Your organisation's account is suspended. Contact the platform operator."
BAD_REFRESH = "Invalid or expired session; please sign in again."
OPERATOR_PREFIX = "op"
MAX_TOKEN_LEN = 200


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    name: str
    token_type: str = "bearer"


@dataclass(frozen=True)
class OperatorTokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    operator_id: uuid.UUID
    name: str
    token_type: str = "bearer"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _parse_refresh(token: str) -> tuple[str, str]:
    """(`<tenant id>` or "op", secret); Unauthorized for anything malformed."""
    if not token or len(token) > MAX_TOKEN_LEN or token.count(".") != 1:
        raise Unauthorized(BAD_REFRESH)
    head, secret = token.split(".")
    if not secret:
        raise Unauthorized(BAD_REFRESH)
    return head, secret


def _tenant_of(head: str) -> uuid.UUID:
    try:
        return uuid.UUID(head)
    except ValueError as exc:
        raise Unauthorized(BAD_REFRESH) from exc


def _expires() -> datetime:
    return utcnow() + timedelta(seconds=get_settings().refresh_token_ttl_s)


# ------------------------------------------------------------------ tenant users


async def _issue_pair(
    session: AsyncSession, user: User, family_id: uuid.UUID
) -> TokenPair:
    refresh_token = f"{user.tenant_id}.{_new_secret()}"
    session.add(
        RefreshToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_token(refresh_token),
            expires_at=_expires(),
        )
    )
    access, ttl = issue_access_token(user.tenant_id, user.id, user.role)
    return TokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=ttl,
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=user.role,
        name=user.name,
    )


async def _tenant_by_slug(slug: str) -> Tenant | None:
    async with platform_session() as ps:
        return (await ps.exec(select(Tenant).where(Tenant.slug == slug))).first()


async def _tenant_is_active(tenant_id: uuid.UUID) -> bool:
    async with platform_session() as ps:
        status = (
            await ps.exec(select(Tenant.status).where(Tenant.id == tenant_id))
        ).first()
    return status == "active"


async def login(
    tenant_slug: str, email: str, password: str, client_addr: str
) -> TokenPair:
    """Email + password within one organisation. Unauthorized or RateLimited."""
    slug = tenant_slug.strip().lower()
    address = email.strip().lower()
    await rate_limit.check_login(slug, address, client_addr)
    tenant = await _tenant_by_slug(slug) if slug else None
    if tenant is None:
        verify_password(None, password)  # same time as a wrong password
        raise Unauthorized(BAD_LOGIN)
    async with tenant_session(tenant.id) as s:
        user = (await s.exec(select(User).where(User.email == address))).first()
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            user = None
        elif tenant.status != "active":
            # Told only to someone who proved who they are.
            raise Forbidden(SUSPENDED)
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
                s.add(user)
            pair = await _issue_pair(s, user, family_id=uuid.uuid4())
    if user is None:
        raise Unauthorized(BAD_LOGIN)
    return pair


async def refresh(refresh_token: str) -> TokenPair:
    """Rotate a refresh token: a new pair, the old token spent.

    Reuse of a spent token revokes its whole family (audited); a disabled user, an
    expired or unknown token → Unauthorized.
    """
    head, _ = _parse_refresh(refresh_token)
    tenant_id = _tenant_of(head)
    if not await _tenant_is_active(tenant_id):
        # A suspended organisation's sessions end at their next refresh.
        raise Unauthorized(SUSPENDED)
    digest = hash_token(refresh_token)
    reused = False
    pair: TokenPair | None = None
    async with tenant_session(tenant_id) as s:
        row = (
            await s.exec(
                select(RefreshToken)
                .where(RefreshToken.token_hash == digest)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise Unauthorized(BAD_REFRESH)
        now = utcnow()
        if row.used_at is not None or row.revoked_at is not None:
            reused = True
            await _revoke_family(s, row.family_id, now)
            s.add(
                AuditEvent(
                    tenant_id=tenant_id,
                    actor=f"user:{row.user_id}",
                    kind="auth.refresh_reuse",
                    subject=f"refresh_family:{row.family_id}",
                    data={"token_id": str(row.id)},
                )
            )
        elif row.expires_at <= now:
            row.revoked_at = now
            s.add(row)
        else:
            user = (await s.exec(select(User).where(User.id == row.user_id))).first()
            if user is None or user.disabled:
                await _revoke_family(s, row.family_id, now)
            else:
                row.used_at = now
                s.add(row)
                pair = await _issue_pair(s, user, family_id=row.family_id)
    if reused:
        log.warning("refresh token reuse: family revoked", extra={"tenant": head})
    if pair is None:
        raise Unauthorized(BAD_REFRESH)
    return pair


async def _revoke_family(
    s: AsyncSession,
    family_id: uuid.UUID,
    now: datetime,
    table: type[RefreshToken] | type[OperatorRefreshToken] = RefreshToken,
) -> None:
    """Revoke every live token of one login (users' or operators' table)."""
    await s.exec(
        update(table)
        .where(col(table.family_id) == family_id, col(table.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def logout(refresh_token: str) -> None:
    """Revoke the session (the token's whole family). Unknown tokens are ignored."""
    try:
        head, _ = _parse_refresh(refresh_token)
    except Unauthorized:
        return
    if head == OPERATOR_PREFIX:
        await operator_logout(refresh_token)
        return
    try:
        tenant_id = _tenant_of(head)
    except Unauthorized:
        return
    async with tenant_session(tenant_id) as s:
        row = (
            await s.exec(
                select(RefreshToken).where(
                    RefreshToken.token_hash == hash_token(refresh_token)
                )
            )
        ).first()
        if row is not None:
            await _revoke_family(s, row.family_id, utcnow())


# ------------------------------------------------------------- platform operators


async def _issue_operator_pair(
    session: AsyncSession, operator: Operator, family_id: uuid.UUID
) -> OperatorTokenPair:
    refresh_token = f"{OPERATOR_PREFIX}.{_new_secret()}"
    session.add(
        OperatorRefreshToken(
            operator_id=operator.id,
            family_id=family_id,
            token_hash=hash_token(refresh_token),
            expires_at=_expires(),
        )
    )
    access, ttl = issue_operator_token(operator.id)
    return OperatorTokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=ttl,
        operator_id=operator.id,
        name=operator.name,
    )


async def operator_login(
    email: str, password: str, client_addr: str
) -> OperatorTokenPair:
    address = email.strip().lower()
    await rate_limit.check_operator_login(address, client_addr)
    async with platform_session() as ps:
        op = (await ps.exec(select(Operator).where(Operator.email == address))).first()
        ok = verify_password(op.password_hash if op else None, password)
        if op is None or not ok or op.disabled:
            op = None
        else:
            if needs_rehash(op.password_hash):
                op.password_hash = hash_password(password)
                ps.add(op)
            pair = await _issue_operator_pair(ps, op, family_id=uuid.uuid4())
    if op is None:
        raise Unauthorized("Wrong email or password.")
    return pair


async def operator_refresh(refresh_token: str) -> OperatorTokenPair:
    head, _ = _parse_refresh(refresh_token)
    if head != OPERATOR_PREFIX:
        raise Unauthorized(BAD_REFRESH)
    pair: OperatorTokenPair | None = None
    async with platform_session() as ps:
        row = (
            await ps.exec(
                select(OperatorRefreshToken)
                .where(OperatorRefreshToken.token_hash == hash_token(refresh_token))
                .with_for_update()
            )
        ).first()
        if row is None:
            raise Unauthorized(BAD_REFRESH)
        now = utcnow()
        if row.used_at is not None or row.revoked_at is not None:
            log.warning("operator refresh token reuse: family revoked")
            await _revoke_family(ps, row.family_id, now, OperatorRefreshToken)
        elif row.expires_at > now:
            op = (
                await ps.exec(select(Operator).where(Operator.id == row.operator_id))
            ).first()
            if op is None or op.disabled:
                await _revoke_family(ps, row.family_id, now, OperatorRefreshToken)
            else:
                row.used_at = now
                ps.add(row)
                pair = await _issue_operator_pair(ps, op, family_id=row.family_id)
    if pair is None:
        raise Unauthorized(BAD_REFRESH)
    return pair


async def operator_logout(refresh_token: str) -> None:
    try:
        head, _ = _parse_refresh(refresh_token)
    except Unauthorized:
        return
    if head != OPERATOR_PREFIX:
        return
    async with platform_session() as ps:
        row = (
            await ps.exec(
                select(OperatorRefreshToken).where(
                    OperatorRefreshToken.token_hash == hash_token(refresh_token)
                )
            )
        ).first()
        if row is not None:
            await _revoke_family(ps, row.family_id, utcnow(), OperatorRefreshToken)
