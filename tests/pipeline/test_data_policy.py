"""The tenant's model and data policy through a real turn: with external memory
forbidden, the request litellm sends to an external model carries no memory text
(and the audit chain says memories were withheld); the built-in model still gets
them; the tenant's model string is the one called."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from app.core.db import platform_session, tenant_session
from app.domain.models import AssistantRun, Memory, Tenant
from app.services import tenant_settings
from app.services.audit_chain import load_chain
from app.services.messages import submit_message
from tests.pipeline.conftest import ScriptedModel, actor_of, wait_done

pytestmark = pytest.mark.usefixtures("clean_db")
ANSWER = {"reply": "Maya approves them.", "actions": []}


@pytest.fixture
async def bistro(demo: Any) -> AsyncIterator[Any]:
    """Harbor Bistro's admin; its policy is restored afterwards."""
    tid = demo.tenant("harbor-bistro").id
    async with platform_session() as s:
        before = dict((await s.get(Tenant, tid)).policy or {})  # type: ignore[union-attr]
    yield actor_of(demo.user("harbor-bistro", "admin"))
    async with platform_session() as s:
        tenant = await s.get(Tenant, tid)
        assert tenant is not None
        tenant.policy = before
        s.add(tenant)


async def _turn(demo: Any, script: ScriptedModel) -> tuple[str, str, uuid.UUID]:
    """Luis asks a question the seeded memories answer; returns the prompt text
    sent, the model called and the message id."""
    luis = demo.user("harbor-bistro", "luis")
    script.say(ANSWER)
    sent = await submit_message(
        actor_of(luis), "Who approves purchases over $200?", uuid.uuid4().hex
    )
    await wait_done(luis.tenant_id, sent.message_id)
    call = script.calls[-1]
    prompt = "\n".join(str(m["content"]) for m in call["messages"])
    return prompt, str(call["model"]), sent.message_id


async def _memory_texts(tenant_id: uuid.UUID) -> list[str]:
    async with tenant_session(tenant_id) as s:
        return list((await s.exec(select(Memory.text))).all())


async def test_forbidden_external_memory_leaves_the_prompt_without_memories(
    demo: Any, worker: Any, scripted_model: ScriptedModel, bistro: Any
) -> None:
    texts = await _memory_texts(bistro.tenant_id)
    assert texts

    # Allowed (the default): the external model gets the memories.
    prompt, _, _ = await _turn(demo, scripted_model)
    assert any(t in prompt for t in texts)

    view = await tenant_settings.update_settings(bistro, {"external_memory": False})
    assert view.external_memory is False
    prompt, model, mid = await _turn(demo, scripted_model)
    assert model == "openai/gpt-4o-mini"
    leaked = [t for t in await _memory_texts(bistro.tenant_id) if t in prompt]
    assert leaked == []
    async with tenant_session(bistro.tenant_id) as s:
        run = (
            await s.exec(select(AssistantRun).where(AssistantRun.message_id == mid))
        ).one()
    assert run.memories_withheld and run.retrieved  # retrieved, not sent
    chain = await load_chain(bistro, f"message:{mid}")
    assert chain.memories_withheld and chain.memories


async def test_the_tenants_model_is_called_and_built_in_models_keep_memories(
    demo: Any, worker: Any, scripted_model: ScriptedModel, bistro: Any
) -> None:
    await tenant_settings.update_settings(
        bistro, {"external_memory": False, "model": "openai/gpt-4o"}
    )
    _, model, _ = await _turn(demo, scripted_model)
    assert model == "openai/gpt-4o"
    # The built-in model runs in-process: nothing leaves, memories stay in.
    await tenant_settings.update_settings(bistro, {"model": "switchboard/offline"})
    prompt, model, mid = await _turn(demo, scripted_model)
    assert model == "switchboard/offline"
    assert any(t in prompt for t in await _memory_texts(bistro.tenant_id))
    assert not (await load_chain(bistro, f"message:{mid}")).memories_withheld
    view = await tenant_settings.update_settings(bistro, {"model": ""})
    assert view.model == ""  # back to the platform's model


async def test_settings_refuse_bad_models_and_policies(bistro: Any) -> None:
    from app.domain.errors import Invalid

    for bad in ({"model": "gpt 4; rm -rf"}, {"external_memory": "no"}):
        with pytest.raises(Invalid):
            await tenant_settings.update_settings(bistro, bad)
