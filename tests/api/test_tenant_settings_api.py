"""Admins edit their organisation's assistant policy and budget; nobody else, and
never another organisation's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.objects import auth


async def test_admin_reads_and_changes_policy(
    client: httpx.AsyncClient, demo: Any
) -> None:
    admin = demo.user("harbor-bistro", "admin")
    got = await client.get("/api/v1/admin/settings", headers=auth(admin))
    assert got.status_code == 200
    before = got.json()
    assert before["approval_required"] == ["cancel_service"]
    try:
        changed = await client.patch(
            "/api/v1/admin/settings",
            headers=auth(admin),
            json={"approval_required": ["cancel_service", "create_task"]},
        )
        assert changed.status_code == 200
        assert changed.json()["approval_required"] == ["cancel_service", "create_task"]
        assert (
            changed.json()["purchase_approval_over"] == before["purchase_approval_over"]
        )
        # The policy the assistant applies is the stored one.
        from agents.policy import TenantPolicy
        from app.core.db import platform_session
        from app.domain.models import Tenant

        async with platform_session() as s:
            tenant = await s.get(Tenant, admin.tenant_id)
        assert tenant is not None
        assert "create_task" in TenantPolicy.from_dict(tenant.policy).approval_required
        # Other organisations are untouched.
        other = demo.user("maple-court", "admin")
        theirs = await client.get("/api/v1/admin/settings", headers=auth(other))
        assert theirs.json()["approval_required"] == ["cancel_service"]
    finally:
        await client.patch(
            "/api/v1/admin/settings",
            headers=auth(admin),
            json={"approval_required": before["approval_required"]},
        )


@pytest.mark.parametrize(
    "body",
    [
        {"approval_required": ["launch_rockets"]},
        {"approver_role": "resident"},
        {"purchase_approval_over": -1},
        {"monthly_token_budget": -5},
        {"tenant_id": "00000000-0000-0000-0000-000000000000"},
        {"model": "not a model!"},
        {"model": "nosuchprovider/some-model"},
        {"model": "switchboard/nope"},
        {"model": "x" * 121},
        {"model": 42},
        {"external_memory": "no"},
        {"external_memory": 0},
        {"currency": "XYZ"},
        {"currency": "eur"},
        {"currency": "€"},
        {"currency": 978},
    ],
)
async def test_invalid_settings_are_refused(
    client: httpx.AsyncClient, demo: Any, body: dict[str, Any]
) -> None:
    admin = demo.user("harbor-bistro", "admin")
    before = (await client.get("/api/v1/admin/settings", headers=auth(admin))).json()
    res = await client.patch("/api/v1/admin/settings", headers=auth(admin), json=body)
    assert res.status_code == 422
    assert res.json()["error"]
    after = (await client.get("/api/v1/admin/settings", headers=auth(admin))).json()
    assert after == before


@pytest.mark.parametrize("handle", ["maya", "luis"])
async def test_only_admins_see_settings(
    client: httpx.AsyncClient, demo: Any, handle: str
) -> None:
    user = demo.user("harbor-bistro", handle)
    assert (
        await client.get("/api/v1/admin/settings", headers=auth(user))
    ).status_code == 403
    res = await client.patch(
        "/api/v1/admin/settings", headers=auth(user), json={"monthly_token_budget": 1}
    )
    assert res.status_code == 403


async def test_admin_sets_the_model_and_the_data_policy(
    client: httpx.AsyncClient, demo: Any
) -> None:
    admin = demo.user("harbor-bistro", "admin")
    before = (await client.get("/api/v1/admin/settings", headers=auth(admin))).json()
    assert (before["model"], before["external_memory"]) == ("", True)
    assert before["plan_token_budget"] is None and before["plan_seats"] is None
    try:
        for model in ("openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"):
            res = await client.patch(
                "/api/v1/admin/settings",
                headers=auth(admin),
                json={"model": model, "external_memory": False},
            )
            assert res.status_code == 200, res.text
            assert (res.json()["model"], res.json()["external_memory"]) == (
                model,
                False,
            )
        # The built-in model, then "" for the platform's.
        for model in ("switchboard/offline", ""):
            res = await client.patch(
                "/api/v1/admin/settings", headers=auth(admin), json={"model": model}
            )
            assert res.json()["model"] == model
            assert res.json()["external_memory"] is False  # left out: unchanged
        from app.domain.tenant_policy import TenantPolicy
        from app.services.tenant_settings import get_settings_for
        from tests.api.objects import actor

        view = await get_settings_for(actor(admin))
        assert TenantPolicy(external_memory=view.external_memory).withholds_memories(
            "openai/gpt-4o-mini"
        )
    finally:
        await client.patch(
            "/api/v1/admin/settings",
            headers=auth(admin),
            json={"model": "", "external_memory": True},
        )


async def test_an_unknown_model_is_explained(
    client: httpx.AsyncClient, demo: Any
) -> None:
    admin = demo.user("harbor-bistro", "admin")
    res = await client.patch(
        "/api/v1/admin/settings",
        headers=auth(admin),
        json={"model": "nosuchprovider/some-model"},
    )
    assert res.status_code == 422
    assert "litellm model string" in res.json()["message"]
    assert "openai/gpt-4o-mini" in res.json()["message"]


def test_the_built_in_models_are_the_ones_the_provider_serves() -> None:
    from agents.model import is_known_model
    from agents.offline_model import OFFLINE_MODEL_NAME
    from agents.provider import PROVIDER
    from app.domain.tenant_policy import BUILT_IN_MODELS

    assert {f"{PROVIDER}/{OFFLINE_MODEL_NAME}"} == BUILT_IN_MODELS
    assert all(is_known_model(m) for m in BUILT_IN_MODELS)
    assert not is_known_model(f"{PROVIDER}/minilm")  # embeddings, not chat


async def test_admin_sets_the_currency_of_amounts(
    client: httpx.AsyncClient, demo: Any
) -> None:
    admin = demo.user("harbor-bistro", "admin")
    before = (await client.get("/api/v1/admin/settings", headers=auth(admin))).json()
    assert before["currency"] == "USD"
    # The demo's London organisations count in pounds (demo/org.yaml).
    london = demo.user("maple-court", "admin")
    theirs = await client.get("/api/v1/admin/settings", headers=auth(london))
    assert theirs.json()["currency"] == "GBP"
    try:
        res = await client.patch(
            "/api/v1/admin/settings", headers=auth(admin), json={"currency": "EUR"}
        )
        assert res.status_code == 200 and res.json()["currency"] == "EUR"
        got = await client.get("/api/v1/admin/settings", headers=auth(admin))
        assert got.json() == {**before, "currency": "EUR"}
        theirs = await client.get("/api/v1/admin/settings", headers=auth(london))
        assert theirs.json()["currency"] == "GBP"
    finally:
        await client.patch(
            "/api/v1/admin/settings", headers=auth(admin), json={"currency": "USD"}
        )
