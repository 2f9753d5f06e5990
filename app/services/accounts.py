"""Tenant administrators manage their organisation's accounts (within the plan's
seats: app/domain/plan.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import platform_session, tenant_session
from app.core.passwords import hash_password
from app.domain.accounts import (
    check_email,
    check_handle,
    check_name,
    check_password,
    check_role,
)
from app.domain.actor import Actor, require_admin
from app.domain.errors import Conflict, Invalid
from app.domain.models import RefreshToken, Tenant, User, utcnow
from app.domain.plan import seats_full
from app.services import audit
from app.services.access import access_user


async def list_users(actor: Actor) -> list[User]:
    require_admin(actor)
    async with tenant_session(actor.tenant_id) as s:
        rows = await s.exec(
            select(User)
            .where(User.tenant_id == actor.tenant_id)
            .order_by(col(User.role), col(User.name))
        )
        return list(rows.all())


async def _plan_seats(tenant_id: uuid.UUID) -> int | None:
    async with platform_session() as ps:
        seats: int | None = (
            await ps.exec(select(Tenant.plan_seats).where(Tenant.id == tenant_id))
        ).first()
    return seats


async def _take_seat(s: AsyncSession, tenant_id: uuid.UUID, seats: int | None) -> None:
    """Refuse one more active account past the plan's seats. The lock (per tenant,
    to the end of the transaction) makes two concurrent creations count in turn."""
    if seats is None:
        return
    await s.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('seats:' || :t))"),
        {"t": str(tenant_id)},
    )
    active = (
        await s.exec(
            select(func.count()).where(
                col(User.tenant_id) == tenant_id, col(User.disabled).is_(False)
            )
        )
    ).one()
    if int(active) >= seats:
        raise seats_full(seats)


async def create_user(
    actor: Actor,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    handle: str | None = None,
) -> User:
    require_admin(actor)
    email = check_email(email)
    name = check_name(name)
    check_role(role)
    check_password(password)
    handle = check_handle(handle or email.split("@")[0])
    seats = await _plan_seats(actor.tenant_id)
    async with tenant_session(actor.tenant_id) as s:
        await _take_seat(s, actor.tenant_id, seats)
        taken = (
            await s.exec(
                select(User.id).where(
                    User.tenant_id == actor.tenant_id,
                    (col(User.email) == email) | (col(User.handle) == handle),
                )
            )
        ).first()
        if taken is not None:
            raise Conflict("A user with this email or handle already exists.")
        user = User(
            tenant_id=actor.tenant_id,
            handle=handle,
            email=email,
            name=name,
            role=role,
            password_hash=hash_password(password),
        )
        s.add(user)
        await s.flush()
        audit.record(
            s,
            actor.tenant_id,
            actor.ref,
            "user.created",
            f"user:{user.id}",
            {"role": role},
        )
    return user


async def set_disabled(actor: Actor, user_id: uuid.UUID, disabled: bool) -> User:
    """Disable (or re-enable) an account; disabling revokes its refresh tokens, so
    its sessions end at their next refresh."""
    require_admin(actor)
    if disabled and user_id == actor.user_id:
        raise Invalid("You cannot disable your own account.")
    seats = None if disabled else await _plan_seats(actor.tenant_id)
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, user_id)
        if user.disabled and not disabled:
            await _take_seat(s, actor.tenant_id, seats)
        if user.disabled != disabled:
            user.disabled = disabled
            s.add(user)
            if disabled:
                await s.exec(
                    update(RefreshToken)
                    .where(
                        col(RefreshToken.tenant_id) == actor.tenant_id,
                        col(RefreshToken.user_id) == user.id,
                        col(RefreshToken.revoked_at).is_(None),
                    )
                    .values(revoked_at=utcnow())
                )
            audit.record(
                s,
                actor.tenant_id,
                actor.ref,
                "user.disabled" if disabled else "user.enabled",
                f"user:{user.id}",
            )
    return user
