"""Requests have a lifecycle the requester sees: status changes and approval
decisions reach their chat and alerts; a second report of an open problem joins the
open task. Through the worker, on real PostgreSQL and Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.core.live import events_stream
from app.core.redis_client import get_redis
from app.domain.models import Message, Notification, ProposedAction, Task
from app.services.approvals import decide, list_pending, list_pending_detailed
from app.services.requests import list_my_requests
from app.services.tasks import update_task_status
from tests.pipeline.conftest import ScriptedModel, actor_of
from tests.pipeline.test_message_flow import reply_to, rows, send

pytestmark = pytest.mark.usefixtures("clean_db")


def report(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "reply": "Logged.",
        "actions": [
            {
                "type": "create_task",
                "title": title,
                "assignee": "team:maintenance",
                "property": "maple-court-12",
                "unit": "4B",
                **extra,
            }
        ],
    }


async def notes_of(user: Any) -> list[str]:
    """The assistant messages in the user's chat that answer no message."""
    found = await rows(user.tenant_id, Message, author="assistant")
    return [
        m.body
        for m in sorted(found, key=lambda m: m.created_at)
        if m.client_message_id.startswith("note:")
        and m.client_message_id.endswith(user.id.hex)
    ]


async def test_status_changes_reach_the_reporter(
    demo: Any, worker: Any, scripted_model: ScriptedModel
) -> None:
    ben = demo.user("maple-court", "ben")
    omar = demo.user("maple-court", "omar")
    tid = ben.tenant_id
    stream = events_stream(tid)
    before = await get_redis().xrevrange(stream, count=1)
    scripted_model.say(report("Kitchen sink leaking under the cabinet"))
    await send(ben, "My kitchen sink is leaking under the cabinet")
    (task,) = await rows(tid, Task)
    (mine,) = await list_my_requests(actor_of(ben))
    assert (mine.kind, mine.status, mine.task_id) == ("Report", "assigned", task.id)
    assert mine.message == "My kitchen sink is leaking under the cabinet"
    # The team hears of the new task live (their open task list reloads).
    after = before[0][0] if before else "0-0"
    entries = await get_redis().xrange(stream, min=f"({after}")
    new_task = [f for _, f in entries if f["kind"] == "task_new"]
    assert [(f["user_id"], f["title"]) for f in new_task] == [
        (str(omar.id), "New task: Kitchen sink leaking under the cabinet")
    ]
    assert json.loads(new_task[0]["data"]) == {"task_id": str(task.id)}

    await update_task_status(actor_of(omar), task.id, "in_progress")
    await update_task_status(actor_of(omar), task.id, "done")
    assert await notes_of(ben) == [
        "Omar Haddad marked 'Kitchen sink leaking under the cabinet' in progress.",
        "Omar Haddad marked 'Kitchen sink leaking under the cabinet' done.",
    ]
    told = await rows(tid, Notification, user_id=ben.id)
    assert sorted(n.kind for n in told) == ["request", "request"]
    assert {n.data["task_id"] for n in told} == {str(task.id)}
    (mine,) = await list_my_requests(actor_of(ben))
    assert mine.status == "done"
    # The one who changed it is not told of their own change.
    assert await rows(tid, Notification, user_id=omar.id, kind="request") == []
    # Nobody else sees Ben's requests.
    assert await list_my_requests(actor_of(demo.user("maple-court", "alice"))) == []


async def test_a_second_report_joins_the_open_task(
    demo: Any, worker: Any, scripted_model: ScriptedModel
) -> None:
    ben = demo.user("maple-court", "ben")
    dana = demo.user("maple-court", "dana")
    omar = demo.user("maple-court", "omar")
    tid = ben.tenant_id
    scripted_model.say(
        report("Kitchen sink leaking under the cabinet"),
        report("Sink in the kitchen is still leaking"),
        report("Bathroom light broken"),
    )
    await send(ben, "My kitchen sink is leaking under the cabinet")
    second = await send(dana, "The sink in the kitchen of 4B is still leaking")
    (task,) = await rows(tid, Task)
    reply = await reply_to(tid, second)
    assert "already reported" in reply and task.title in reply
    (action,) = await rows(tid, ProposedAction, message_id=second)
    assert action.result == {"task": str(task.id), "linked": "1"}
    (dana_view,) = await list_my_requests(actor_of(dana))
    assert dana_view.linked and dana_view.task_id == task.id
    # Another problem at the same place is another task.
    await send(ben, "The bathroom light is broken")
    assert len(await rows(tid, Task)) == 2

    await update_task_status(actor_of(omar), task.id, "done")
    for who in (ben, dana):
        assert await notes_of(who) == [
            "Omar Haddad marked 'Kitchen sink leaking under the cabinet' done."
        ]


async def test_a_done_problem_reported_again_is_a_new_task(
    demo: Any, worker: Any, scripted_model: ScriptedModel
) -> None:
    ben = demo.user("maple-court", "ben")
    omar = demo.user("maple-court", "omar")
    scripted_model.say(report("Sink leaking"), report("Sink leaking"))
    await send(ben, "Sink leaking")
    (task,) = await rows(ben.tenant_id, Task)
    await update_task_status(actor_of(omar), task.id, "done")
    await send(ben, "Sink leaking")
    assert len(await rows(ben.tenant_id, Task)) == 2


async def test_an_approval_decision_reaches_the_requesters_chat(
    demo: Any, worker: Any, scripted_model: ScriptedModel
) -> None:
    luis = demo.user("harbor-bistro", "luis")
    maya = demo.user("harbor-bistro", "maya")
    tid = luis.tenant_id
    scripted_model.say(
        {
            "reply": "I'll ask.",
            "actions": [
                {
                    "type": "create_task",
                    "title": "Buy a new fryer",
                    "assignee": "team:kitchen",
                    "cost": 450,
                }
            ],
        }
    )
    await send(luis, "Please buy a new fryer for $450")
    (waiting,) = await list_my_requests(actor_of(luis))
    assert (waiting.kind, waiting.status) == ("Purchase", "waiting for approval")
    (approval,) = await list_pending(actor_of(maya))
    # The decider sees who asked, what they wrote and the exact amount.
    (card,) = await list_pending_detailed(actor_of(maya))
    assert (card.requester, card.message, card.payload["cost"]) == (
        "Luis Ortega",
        "Please buy a new fryer for $450",
        450,
    )
    await decide(actor_of(maya), approval.id, approve=True)
    assert await notes_of(luis) == [
        "Maya Chen approved your request: Task: Buy a new fryer"
    ]
    (done,) = await list_my_requests(actor_of(luis))
    assert (done.status, done.title) == ("approved", "Buy a new fryer")
    (task,) = await rows(tid, Task)
    assert task.created_by == luis.id
    told = await rows(tid, Notification, user_id=luis.id)
    assert [n.kind for n in told] == ["approval_result"]
