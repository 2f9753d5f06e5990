"""A notification made by the assistant reaches a closed app by Web Push: the
worker's send_push job, the real pywebpush, a loopback push service."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app.domain.models import Notification
from tests.pipeline.conftest import ScriptedModel
from tests.pipeline.test_message_flow import rows, send
from tests.ui.test_push_sender import Browser, PushService, _subscribe, push_service

__all__ = ["push_service"]  # the fixture, imported for this module
pytestmark = pytest.mark.usefixtures("clean_db")


async def test_assistant_notification_is_pushed_once(
    demo: Any, worker: Any, scripted_model: ScriptedModel, push_service: PushService
) -> None:
    maya = demo.user("harbor-bistro", "maya")
    sam = demo.user("harbor-bistro", "sam")
    browser = Browser.new()
    path = f"/201/{uuid.uuid4().hex}"
    await _subscribe(sam.tenant_id, sam.id, push_service.base + path, browser)
    scripted_model.say(
        {
            "reply": "ok",
            "actions": [
                {"type": "notify", "recipients": ["user:sam"], "message": "Fryer!"}
            ],
        }
    )
    await send(maya, "Tell Sam about the fryer")
    for _ in range(100):
        mine = [r for r in push_service.received if r.path == path]
        if mine:
            break
        await asyncio.sleep(0.05)
    (request,) = mine
    assert request.headers["authorization"].startswith("vapid ")
    payload = browser.decrypt(request.body)
    assert payload["title"] == "From Maya Chen"
    # The worker records the send after the push service answered: wait for it.
    for _ in range(100):
        (note,) = await rows(sam.tenant_id, Notification)
        if note.pushed_at is not None:
            break
        await asyncio.sleep(0.05)
    assert note.pushed_at is not None
    await asyncio.sleep(0.3)
    assert len([r for r in push_service.received if r.path == path]) == 1
