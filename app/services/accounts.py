"""Tenant administrators manage their organisation's accounts."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import update
from sqlmodel import col, select

from app.context import Actor
from app.db import tenant_session
from app.models import RefreshToken, Role, User, utcnow
from app.passwords import hash_password
from app.services import audit
from app.services.access import access_user
from app.services.errors import Conflict, Forbidden, Invalid

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HANDLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$")
MIN_PASSWORD = 10


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only the organisation's administrators can do this.")


async def list_users(actor: Actor) -> list[User]:
    _require_admin(actor)
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
    _require_admin(actor)
    email = email.strip().lower()
    name = name.strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise Invalid("The email address is not valid.")
    if not name or len(name) > 200:
        raise Invalid("The name must have 1-200 characters.")
    if role not in {r.value for r in Role}:
        raise Invalid("role must be admin, manager, employee or resident.")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"The password must have at least {MIN_PASSWORD} characters.")
    handle = (handle or email.split("@")[0]).strip().lower()
    if not HANDLE_RE.match(handle):
        raise Invalid("The handle must be lowercase letters, digits, . _ or -.")
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
    _require_admin(actor)
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
