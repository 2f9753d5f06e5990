"""Tenant administrators manage their organisation's accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlmodel import col, select

from app.core.db import tenant_session
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
from app.domain.models import RefreshToken, User, utcnow
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
    async with tenant_session(actor.tenant_id) as s:
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
    async with tenant_session(actor.tenant_id) as s:
        user = await access_user(s, actor, user_id)
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
