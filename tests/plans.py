"""Fixtures for plan-limit tests: an operator and a fresh organisation (the demo
organisations keep no plan, so other tests are unaffected)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from app.core.db import platform_session, tenant_session
from app.core.tokens import OperatorActor
from app.domain.models import Operator, Tenant, User
from app.services import console
from tests.conftest import Demo

PASSWORD = "plan-test-password"


@pytest.fixture
async def plan_op(demo: Demo) -> AsyncIterator[OperatorActor]:
    from app.core.passwords import hash_password

    row = Operator(
        email=f"plan-{uuid.uuid4().hex[:8]}@platform.example",
        name="Plans",
        password_hash=hash_password(PASSWORD),
    )
    async with platform_session() as s:
        s.add(row)
    yield OperatorActor(operator_id=row.id)


@pytest.fixture
async def plan_org(plan_op: OperatorActor) -> tuple[Tenant, User]:
    """A fresh organisation and its first admin (the demo ones keep no plan)."""
    slug = f"plan-{uuid.uuid4().hex[:8]}"
    row = await console.create_tenant(
        plan_op,
        slug=slug,
        name="Plan Test",
        kind="other",
        timezone="UTC",
        admin_email=f"admin@{slug}.example",
        admin_name="Plan Admin",
        admin_password=PASSWORD,
    )
    async with platform_session() as s:
        tenant = await s.get(Tenant, row.id)
    async with tenant_session(row.id) as ts:
        admin = (await ts.exec(select(User))).one()
    assert tenant is not None
    return tenant, admin
