"""The console's audit chain and audit log against a real turn: message → worker →
(scripted) model → verdicts → approval → execution → notifications, then read back
from every link of the chain; another tenant's ids are not found."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.errors import Forbidden, NotFound
from app.domain.models import Approval, Notification, ProposedAction, Task, utcnow
from app.services import approvals
from app.services.audit_chain import load_chain, load_prompt, recent_messages
from app.services.audit_log import AuditFilter, export_csv, list_audit
from app.services.messages import submit_message
from tests.pipeline.conftest import ScriptedModel, actor_of, wait_done

pytestmark = [pytest.mark.usefixtures("clean_db"), pytest.mark.isolation]
UTC = ZoneInfo("UTC")


@pytest.fixture
async def chain_message(
    demo: Any, worker: Any, scripted_model: ScriptedModel
) -> dict[str, Any]:
    """Luis (employee) asks for three things: one runs, one is refused, one waits
    for approval; Maya (manager) approves it."""
    luis = demo.user("harbor-bistro", "luis")
    scripted_model.say(
        {
            "reply": "On it.",
            "actions": [
                {"type": "notify", "recipients": ["team:kitchen"], "message": "Prep!"},
                {"type": "notify", "recipients": ["user:nobody"], "message": "Hi"},
                {
                    "type": "create_task",
                    "title": "Buy a new fridge",
                    "assignee": "user:maya",
                    "cost": 900,
                },
            ],
        }
    )
    sent = await submit_message(
        actor_of(luis), "Tell the kitchen to prep and buy a fridge", uuid.uuid4().hex
    )
    await wait_done(luis.tenant_id, sent.message_id)
    async with tenant_session(luis.tenant_id) as s:
        approval = (await s.exec(select(Approval))).one()
    await approvals.decide(
        actor_of(demo.user("harbor-bistro", "maya")), approval.id, True
    )
    return {"message_id": sent.message_id, "approval": approval, "luis": luis}


async def test_the_chain_is_the_same_from_every_link(
    demo: Any, chain_message: dict[str, Any]
) -> None:
    admin = actor_of(demo.user("harbor-bistro", "admin"))
    tid = admin.tenant_id
    mid = chain_message["message_id"]
    approval = chain_message["approval"]
    chain = await load_chain(admin, f"message:{mid}")

    assert chain.sender == "Luis Ortega" and chain.sender_role == "employee"
    assert chain.body.startswith("Tell the kitchen")
    assert chain.memories and all(m.scope and m.score > 0 for m in chain.memories)
    assert not any(m.forgotten for m in chain.memories)
    (call,) = chain.calls
    assert call.model.endswith("gpt-4o-mini") and call.prompt_tokens > 0
    assert call.cost_usd > 0 and call.latency_ms >= 0
    decisions = [(a.type, a.decision, a.status) for a in chain.actions]
    assert decisions == [
        ("notify", "allow", "executed"),
        ("notify", "deny", "rejected"),
        ("create_task", "needs_approval", "executed"),
    ]
    refused = chain.actions[1]
    assert "nobody" in refused.reason
    fridge = chain.actions[2]
    assert fridge.payload["title"] == "Buy a new fridge"
    assert fridge.approval is not None
    assert fridge.approval.decided_by == "Maya Chen"
    assert fridge.approval.requested_by == "Luis Ortega"
    assert fridge.approval.status == "approved" and fridge.approval.hash_matches
    assert fridge.approval.payload_hash == fridge.payload_hash
    assert fridge.result is not None and "task" in fridge.result
    recipients = {(n.recipient, n.kind) for n in chain.notifications}
    assert ("Sam Okafor", "notify") in recipients  # the executed notify
    assert ("Maya Chen", "approval") in recipients  # the approval request
    assert ("Luis Ortega", "approval_result") in recipients
    kinds = [e.kind for e in chain.events]
    assert "action.rejected" in kinds and "approval.approved" in kinds
    assert "Maya Chen" in {e.actor for e in chain.events}

    async with tenant_session(tid) as s:
        note = (
            await s.exec(
                select(Notification).where(
                    Notification.dedupe_key == f"approval-result:{approval.id}"
                )
            )
        ).first()
        task = (await s.exec(select(Task))).one()
        first = (
            await s.exec(select(ProposedAction).where(ProposedAction.position == 0))
        ).one()
    assert note is not None
    for ref in (
        f"action:{first.id}",
        f"approval:{approval.id}",
        f"notification:{note.id}",
        f"task:{task.id}",
    ):
        assert (await load_chain(admin, ref)).message_id == mid, ref

    prompt = await load_prompt(admin, f"message:{mid}")
    assert prompt[0]["role"] == "system" and "<context>" in prompt[0]["content"]
    assert prompt[-1]["content"].startswith("Tell the kitchen")
    assert [m.id for m in await recent_messages(admin)] == [mid]


async def test_only_admins_of_the_tenant_see_a_chain(
    demo: Any, chain_message: dict[str, Any]
) -> None:
    mid = chain_message["message_id"]
    for handle in ("maya", "luis"):
        with pytest.raises(Forbidden):
            await load_chain(
                actor_of(demo.user("harbor-bistro", handle)), f"message:{mid}"
            )
        with pytest.raises(Forbidden):
            await load_prompt(
                actor_of(demo.user("harbor-bistro", handle)), f"message:{mid}"
            )
    other = actor_of(demo.user("maple-court", "admin"))
    approval = chain_message["approval"]
    for ref in (f"message:{mid}", f"approval:{approval.id}", "message:x", "evil:1"):
        with pytest.raises(NotFound):
            await load_chain(other, ref)
    with pytest.raises(NotFound):
        await load_prompt(other, f"message:{mid}")
    assert await recent_messages(other) == []
    page = await list_audit(other, AuditFilter(), UTC)
    assert all("Luis" not in e.actor for e in page.entries)


async def test_audit_log_names_filters_pages_and_exports(
    demo: Any, chain_message: dict[str, Any]
) -> None:
    admin = actor_of(demo.user("harbor-bistro", "admin"))
    luis = chain_message["luis"]
    everything = await list_audit(admin, AuditFilter(), UTC)
    assert everything.total == 4  # three actions, one approval
    assert not any(e.actor.startswith("user:") for e in everything.entries)
    assert {"Maya Chen", "assistant"} <= {e.actor for e in everything.entries}

    denied = await list_audit(admin, AuditFilter(verdict="deny"), UTC)
    assert [(e.kind, e.action_type) for e in denied.entries] == [
        ("action.rejected", "notify")
    ]
    assert denied.entries[0].chain_ref.startswith("action:")
    assert "nobody" in denied.entries[0].reason

    tasks = await list_audit(admin, AuditFilter(action_type="create_task"), UTC)
    assert {e.kind for e in tasks.entries} == {
        "action.pending_approval",
        "approval.approved",
    }
    assert all(e.action_type == "create_task" for e in tasks.entries)

    mine = await list_audit(admin, AuditFilter(user_id=luis.id), UTC)
    assert mine.total == 3  # his three actions, as requester
    maya = demo.user("harbor-bistro", "maya")
    theirs = await list_audit(admin, AuditFilter(user_id=maya.id), UTC)
    assert [e.kind for e in theirs.entries] == ["approval.approved"]

    tomorrow = (utcnow() + timedelta(days=1)).date()
    assert (await list_audit(admin, AuditFilter(date_from=tomorrow), UTC)).total == 0
    today = utcnow().date()
    same_day = AuditFilter(date_from=today, date_to=today)
    assert (await list_audit(admin, same_day, UTC)).total == everything.total

    first = await list_audit(admin, AuditFilter(), UTC, page=1, page_size=2)
    second = await list_audit(admin, AuditFilter(), UTC, page=2, page_size=2)
    assert first.pages == -(-everything.total // 2) and len(first.entries) == 2
    assert {e.id for e in first.entries}.isdisjoint({e.id for e in second.entries})
    beyond = await list_audit(admin, AuditFilter(), UTC, page=999, page_size=2)
    assert beyond.page == first.pages

    rows = list(csv.reader(io.StringIO(await export_csv(admin, AuditFilter(), UTC))))
    assert rows[0][:3] == ["time_utc", "actor", "event"]
    assert len(rows) == everything.total + 1
    with pytest.raises(Forbidden):
        await export_csv(actor_of(maya), AuditFilter(), UTC)
