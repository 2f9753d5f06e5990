"""The platform operator's console: sign in, list and create organisations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete
from sqlmodel import select

from app.core.db import platform_session, tenant_session
from app.core.passwords import hash_password
from app.domain.models import Operator, Tenant, User
from app.services import auth as service
from state.operator import OperatorState
from state.session import SessionState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, redirect_path

OP_PASSWORD = "operator-password-1"


@pytest.fixture
async def operator(demo: Demo) -> AsyncIterator[str]:
    email = f"op-{uuid.uuid4().hex[:8]}@switchboard.test"
    async with platform_session() as s:
        s.add(
            Operator(email=email, name="Op", password_hash=hash_password(OP_PASSWORD))
        )
    yield email


async def _operator_tab(email: str) -> OperatorState:
    tab = new_tab()
    op = await tab.get_state(OperatorState)
    result = await call(op, "operator_login", {"email": email, "password": OP_PASSWORD})
    assert redirect_path(result) == "/operator", op.login_error
    return op


async def test_operator_lists_and_creates_tenants(operator: str) -> None:
    op = await _operator_tab(operator)
    await call(op, "load_tenants")
    assert {"harbor-bistro", "maple-court", "riverside-lofts"} <= {
        t["slug"] for t in op.tenants
    }
    slug = f"oak-{uuid.uuid4().hex[:6]}"
    form = {
        "slug": slug,
        "name": "Oak Street",
        "kind": "property",
        "timezone": "Europe/London",
        "admin_name": "Oak Admin",
        "admin_email": f"admin@{slug}.example",
        "admin_password": "oak-admin-password",
    }
    await call(op, "create_tenant", form)
    assert op.create_error == ""
    assert slug in {t["slug"] for t in op.tenants}
    await call(op, "create_tenant", form)
    assert op.create_error == "An organisation with this slug already exists."
    # The new organisation's admin can sign in to it.
    pair = await service.login(slug, f"admin@{slug}.example", "oak-admin-password", "t")
    assert pair.role == "admin"
    async with platform_session() as s:
        tenant = (await s.exec(select(Tenant).where(Tenant.slug == slug))).one()
    async with tenant_session(tenant.id) as s:
        await s.exec(delete(User))


async def test_operator_handlers_refuse_without_operator_session(demo: Demo) -> None:
    tab = new_tab()
    op = await tab.get_state(OperatorState)
    assert redirect_path(await call(op, "load_tenants")) == "/operator/login"
    form = {"slug": "evil", "name": "Evil", "admin_email": "e@e.example"}
    assert redirect_path(await call(op, "create_tenant", form)) == "/operator/login"
    async with platform_session() as s:
        assert (
            await s.exec(select(Tenant).where(Tenant.slug == "evil"))
        ).first() is None


@pytest.mark.isolation
async def test_tenant_admin_is_not_an_operator(demo: Demo, operator: str) -> None:
    """A tenant user's signed-in tab has no operator session: no tenants list."""
    from tests.ui.conftest import sign_in

    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "admin")
    session = await tab.get_state(SessionState)
    op = await tab.get_state(OperatorState)
    # Even a tenant access token placed where the operator's goes is refused.
    op._access_token = session._access_token
    assert redirect_path(await call(op, "load_tenants")) == "/operator/login"
    assert op.tenants == []


async def test_operator_logout_revokes(operator: str) -> None:
    op = await _operator_tab(operator)
    refresh = op._refresh_token
    assert redirect_path(await call(op, "operator_logout")) == "/operator/login"
    assert op._access_token == "" and not op.operator_signed_in
    with pytest.raises(Exception, match="sign in again"):
        await service.operator_refresh(refresh)


async def test_operator_suspends_and_resumes_an_organisation(
    operator: str, clean_db: None
) -> None:
    from app.domain.actor import Actor
    from app.domain.errors import Forbidden, Unauthorized
    from app.domain.models import LlmUsage, Message
    from app.services.messages import submit_message
    from app.services.turns import SUSPENDED_REPLY, handle_message
    from tests.ui.conftest import toast

    op = await _operator_tab(operator)
    slug = f"elm-{uuid.uuid4().hex[:6]}"
    email, password = f"admin@{slug}.example", "elm-admin-password"
    form = {
        "slug": slug,
        "name": "Elm",
        "admin_name": "Elm Admin",
        "admin_email": email,
        "admin_password": password,
    }
    await call(op, "create_tenant", form)
    [row] = [t for t in op.tenants if t["slug"] == slug]
    assert (row["users"], row["status"], row["cost"]) == ("1", "active", "$0.0000")
    pair = await service.login(slug, email, password, "t")

    result = await call(op, "set_suspended", row["id"], True)
    assert "Suspended" in toast(result)
    [row] = [t for t in op.tenants if t["slug"] == slug]
    assert row["status"] == "suspended"
    with pytest.raises(Forbidden, match="suspended"):
        await service.login(slug, email, password, "t")
    with pytest.raises(Unauthorized, match="Wrong organisation"):
        await service.login(slug, email, "wrong-password-123", "t")
    with pytest.raises(Unauthorized, match="suspended"):
        await service.refresh(pair.refresh_token)

    # A message that was already in: answered with the notice, no model call.
    actor = Actor(pair.tenant_id, pair.user_id, pair.role)
    sent = await submit_message(actor, "Remind everyone about the meeting", "c-1")
    assert await handle_message(pair.tenant_id, sent.message_id) == "suspended"
    async with tenant_session(pair.tenant_id) as s:
        reply = (
            await s.exec(select(Message).where(Message.reply_to_id == sent.message_id))
        ).one()
        assert reply.body == SUSPENDED_REPLY
        assert (await s.exec(select(LlmUsage))).first() is None

    assert "Resumed" in toast(await call(op, "set_suspended", row["id"], False))
    assert (await service.login(slug, email, password, "t")).role == "admin"


async def test_only_operators_suspend(demo: Demo) -> None:
    tab = new_tab()
    op = await tab.get_state(OperatorState)
    tid = str(demo.tenant("harbor-bistro").id)
    assert (
        redirect_path(await call(op, "set_suspended", tid, True)) == "/operator/login"
    )
    async with platform_session() as s:
        assert (await s.get(Tenant, demo.tenant("harbor-bistro").id)).status == "active"  # type: ignore[union-attr]


async def test_operator_sets_a_plan_in_the_dialog(operator: str) -> None:
    from tests.ui.conftest import toast

    op = await _operator_tab(operator)
    slug = f"ash-{uuid.uuid4().hex[:6]}"
    form = {
        "slug": slug,
        "name": "Ash",
        "admin_name": "Ash Admin",
        "admin_email": f"admin@{slug}.example",
        "admin_password": "ash-admin-password",
    }
    await call(op, "create_tenant", form)
    [row] = [t for t in op.tenants if t["slug"] == slug]
    assert (row["plan"], row["seats"]) == ("no limits", "1")
    await call(op, "open_plan", row["id"])
    assert op.plan_open and (op.plan_budget, op.plan_seats) == ("", "")
    await call(op, "set_plan_seats", "many")
    assert await call(op, "save_plan") is None
    assert "whole numbers" in op.plan_error and op.plan_open
    await call(op, "set_plan_seats", "0")
    await call(op, "save_plan")
    assert "between 1 and" in op.plan_error
    await call(op, "set_plan_seats", "5")
    await call(op, "set_plan_budget", "250,000")
    assert "Saved the plan" in toast(await call(op, "save_plan"))
    [row] = [t for t in op.tenants if t["slug"] == slug]
    assert (row["plan"], row["seats"]) == ("250,000 tokens · 5 seats", "1 of 5")
    assert row["tokens"] == "0 / 250,000"  # the plan caps the organisation's budget
    assert not op.plan_open
    assert "No such organisation" in toast(await call(op, "open_plan", "nope"))

    signed_out = await new_tab().get_state(OperatorState)
    assert redirect_path(await call(signed_out, "save_plan")) == "/operator/login"
