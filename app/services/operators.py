"""Platform operator accounts (they manage tenants and never see tenant content)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

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
    password_hash = hash_password(password)
    async with platform_session() as s:
        # ON CONFLICT: two starts seeding the same operator at once both succeed.
        created = (
            await s.execute(
                insert(Operator)
                .values(
                    Operator(
                        email=email, name=name, password_hash=password_hash
                    ).model_dump()
                )
                .on_conflict_do_nothing(index_elements=["email"])
                .returning(col(Operator.id))
            )
        ).scalar()
        if created is None and not keep_password:
            await s.execute(
                update(Operator)
                .where(col(Operator.email) == email)
                .values(password_hash=password_hash)
            )
    return created is not None
