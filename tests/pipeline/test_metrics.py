"""GET /api/metrics shows what a worker did: the figures go through Redis, as they do
from a worker process (who may read it: tests/api/test_metrics_api.py)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.core.db import platform_session, tenant_session
from app.core.live import subscribe
from app.core.settings import get_settings
from app.domain.actions import SPECS
from app.domain.models import Message, Tenant
from app.services.messages import submit_message
from tests.api.test_metrics_api import Samples, samples, scrape, value
from tests.conftest import Demo
from tests.pipeline.conftest import ScriptedModel, actor_of

pytestmark = pytest.mark.usefixtures("clean_db")
M, H = "maple-court", "harbor-bistro"


@pytest.fixture
async def local_client(demo: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API, called from the backend's own host (loopback: allowed)."""
    from app.api import create_api

    transport = httpx.ASGITransport(app=create_api(), client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def wait_done(tenant_id: uuid.UUID, message_id: uuid.UUID) -> None:
    """Like the pipeline's, with room for a busy machine (the first turn waits
    for the worker's model to load)."""
    for _ in range(1200):
        async with tenant_session(tenant_id) as s:
            msg = await s.get(Message, (tenant_id, message_id))
        if msg is not None and msg.status in ("done", "failed"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("message not processed in 120 s")


async def _settle(c: httpx.AsyncClient, done: Any, timeout_s: float = 10.0) -> Samples:
    """Scrape until `done(samples)` holds: figures recorded just after a commit."""
    found = await scrape(c)
    for _ in range(int(timeout_s / 0.05)):
        if done(found):
            return found
        await asyncio.sleep(0.05)
        found = await scrape(c)
    raise AssertionError("the metrics never showed it")


async def test_a_turn_shows_up_in_the_metrics(
    local_client: httpx.AsyncClient, demo: Demo, worker: Any
) -> None:
    maya = demo.user(H, "maya")
    tid = str(maya.tenant_id)
    before = await scrape(local_client)
    turns = "switchboard_turns_total"
    stage = "switchboard_turn_stage_seconds_count"
    sent = await submit_message(
        actor_of(maya), "We are out of limes at the bar.", uuid.uuid4().hex
    )
    await wait_done(maya.tenant_id, sent.message_id)
    depth = "switchboard_queue_depth"
    # The turn's follow-up jobs (queued after its commit) drain just after it.
    after = await _settle(
        local_client,
        lambda f: (
            value(f, turns, tenant=tid, outcome="done")
            > value(before, turns, tenant=tid, outcome="done")
            and value(f, depth, tenant=tid) == 0
        ),
    )
    assert value(after, turns, tenant=tid, tenant_slug=H, outcome="done") == (
        value(before, turns, tenant=tid, outcome="done") + 1
    )
    for name in ("queue_wait", "claim", "embedding", "retrieval", "model", "turn"):
        assert value(after, stage, stage=name) == value(before, stage, stage=name) + 1
    model = get_settings().llm_model
    tokens = "switchboard_model_tokens_total"
    assert value(after, tokens, model=model, kind="prompt") > value(
        before, tokens, model=model, kind="prompt"
    )
    calls = "switchboard_model_call_seconds_count"
    assert value(after, calls, model=model) == value(before, calls, model=model) + 1
    # The reply reached the sender's open apps: one live entry at least.
    live = "switchboard_notifications_total"
    assert value(after, live, channel="live") > value(before, live, channel="live")
    # Every tenant has its queue depth, labelled with its slug; nothing waits now.
    for slug, tenant in demo.tenants.items():
        labels = {"tenant": str(tenant.id), "tenant_slug": slug}
        assert (depth, frozenset({**labels, "state": "waiting"}.items())) in after
        assert value(after, depth, **labels) == 0


async def test_refused_actions_are_counted_by_reason(
    local_client: httpx.AsyncClient,
    demo: Demo,
    worker: Any,
    scripted_model: ScriptedModel,
) -> None:
    maya = demo.user(H, "maya")
    name = "switchboard_refused_actions_total"
    labels = {"reason": "unknown_ref", "action": "notify"}
    before = await scrape(local_client)
    scripted_model.say(
        {
            "reply": "Telling them.",
            "actions": [
                {"type": "notify", "recipients": ["user:zelda"], "message": "hi"}
            ],
        }
    )
    sent = await submit_message(actor_of(maya), "Tell Zelda hi", uuid.uuid4().hex)
    await wait_done(maya.tenant_id, sent.message_id)
    after = await _settle(
        local_client,
        lambda f: value(f, name, **labels) > value(before, name, **labels),
    )
    assert value(after, name, **labels) == value(before, name, **labels) + 1


async def test_open_live_connections_are_counted_per_tenant(
    local_client: httpx.AsyncClient, demo: Demo
) -> None:
    omar, grace = demo.user(M, "omar"), demo.user(M, "grace")
    tid = str(omar.tenant_id)
    name = "switchboard_live_connections"
    async with subscribe(omar.tenant_id, omar.id), subscribe(grace.tenant_id, grace.id):
        found = await _settle(local_client, lambda f: value(f, name, tenant=tid) == 2)
        assert value(found, name, tenant=tid, tenant_slug=M) == 2
    await _settle(local_client, lambda f: value(f, name, tenant=tid) == 0)


async def test_metric_labels_carry_no_tenant_content(
    local_client: httpx.AsyncClient, demo: Demo, worker: Any
) -> None:
    """Only tenant ids and slugs, and fixed words from the code, are label values:
    no message text, no people, no places."""
    maya = demo.user(H, "maya")
    body = "Quentin spilled xylophone-polish near the walk-in freezer."
    sent = await submit_message(actor_of(maya), body, uuid.uuid4().hex)
    await wait_done(maya.tenant_id, sent.message_id)
    async with subscribe(maya.tenant_id, maya.id):
        r = await local_client.get("/api/metrics")
    async with platform_session() as ps:
        tenants = (await ps.exec(select(Tenant.id, Tenant.slug))).all()
    allowed = {str(tid) for tid, _ in tenants} | {slug for _, slug in tenants}
    allowed |= set(SPECS) | {"unknown", ""}
    model_name = re.compile(r"[A-Za-z0-9._/:-]{1,120}")
    for (_name, labels), _v in samples(r.text).items():
        for key, val in labels:
            if key in ("tenant", "tenant_slug", "action"):
                assert val in allowed, (key, val)
            elif key == "model":  # from configuration or the provider's answer
                assert model_name.fullmatch(val), val
            else:
                # Fixed words from the code: lower-case identifiers or bounds.
                assert re.fullmatch(r"[a-z_]{1,40}|[0-9.]+|\+Inf", val), (key, val)
    text = r.text.lower()
    for word in ("quentin", "xylophone", "freezer", "limes"):
        assert word not in text
    for (slug, _handle), user in demo.users.items():
        assert user.email.lower() not in text
        assert user.name.lower() not in text, slug
    for tenant in demo.tenants.values():
        assert tenant.name.lower() not in text
