"""Platform operator accounts (they manage tenants and never see tenant content)."""

from __future__ import annotations

from sqlmodel import select

from app.core.db import platform_session
from app.core.passwords import hash_password
from app.domain.accounts import check_email, check_name, check_password
from app.domain.models import Operator


async def ensure_operator(
    email: str, name: str, password: str, *, keep_password: bool = False
) -> bool:
    """Create the operator, or set the password of an existing one (unless
    `keep_password`). True when it was created."""
    email = check_email(email)
    name = check_name(name)
    check_password(password)
    async with platform_session() as s:
        existing = (
            await s.exec(select(Operator).where(Operator.email == email))
        ).first()
        if existing is not None:
            if not keep_password:
                existing.password_hash = hash_password(password)
                s.add(existing)
            return False
        s.add(Operator(email=email, name=name, password_hash=hash_password(password)))
    return True
