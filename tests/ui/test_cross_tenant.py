"""A signed-in user sending another tenant's ids gets "not found" and nothing
changes: every handler loads by id inside the caller's own tenant session."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import Approval, Notification, PushSubscription, Task, User
from state.admin import AdminState
from state.approvals import ApprovalsState
from state.people import PeopleState
from state.push import PushState
from state.work import AlertsState, TasksState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, other_tenant_rows, sign_in, toast

pytestmark = pytest.mark.isolation


@pytest.fixture
async def theirs(demo: Demo, clean_db: None) -> dict[str, Any]:
    """Riverside Lofts' rows; the attacker is Maple Court's admin (every role check
    passes, only the tenant differs)."""
    return await other_tenant_rows(demo, "riverside-lofts", "rita")


async def _reload(model: Any, tenant_id: Any, row_id: Any) -> Any:
    async with tenant_session(tenant_id) as s:
        return (await s.exec(select(model).where(model.id == row_id))).one()


async def test_mark_read_of_another_tenants_notification(
    demo: Demo, theirs: dict[str, Any]
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    alerts = await tab.get_state(AlertsState)
    note = theirs["notification"]
    assert "Not found." in toast(await call(alerts, "mark_read", str(note.id)))
    row = await _reload(Notification, theirs["tenant_id"], note.id)
    assert row.read_at is None


async def test_task_status_of_another_tenants_task(
    demo: Demo, theirs: dict[str, Any]
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    tasks = await tab.get_state(TasksState)
    task = theirs["task"]
    assert "Not found." in toast(
        await call(tasks, "set_task_status", str(task.id), "done")
    )
    assert (await _reload(Task, theirs["tenant_id"], task.id)).status == "open"
    assert all(t["id"] != str(task.id) for t in tasks.tasks)


async def test_decide_on_another_tenants_approval(
    demo: Demo, theirs: dict[str, Any]
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    approvals = await tab.get_state(ApprovalsState)
    approval = theirs["approval"]
    result = await call(approvals, "decide", str(approval.id), True)
    assert "No such approval." in toast(result)
    row = await _reload(Approval, theirs["tenant_id"], approval.id)
    assert row.status == "pending" and row.decided_by is None
    await call(approvals, "load_approvals")
    assert all(a["id"] != str(approval.id) for a in approvals.approvals)


async def test_disable_another_tenants_user(demo: Demo, theirs: dict[str, Any]) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    admin = await tab.get_state(AdminState)
    rita = theirs["user"]
    assert "Not found." in toast(await call(admin, "set_disabled", str(rita.id), True))
    assert (await _reload(User, theirs["tenant_id"], rita.id)).disabled is False
    people = await tab.get_state(PeopleState)
    await call(people, "load_people")
    emails = {u["email"] for u in people.people}
    assert "admin@maple-court.example" in emails
    assert not any(e.endswith("riverside-lofts.example") for e in emails)


async def test_malformed_ids_are_not_found(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    alerts = await tab.get_state(AlertsState)
    tasks = await tab.get_state(TasksState)
    assert "Not found." in toast(await call(alerts, "mark_read", "'; DROP TABLE x"))
    assert "Not found." in toast(await call(tasks, "set_task_status", "", "done"))


async def test_lists_show_only_the_callers_tenant(
    demo: Demo, theirs: dict[str, Any]
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    tasks = await tab.get_state(TasksState)
    alerts = await tab.get_state(AlertsState)
    approvals = await tab.get_state(ApprovalsState)
    await call(tasks, "load_tasks")
    await call(alerts, "load_alerts")
    await call(approvals, "load_approvals")
    assert tasks.tasks == [] and alerts.alerts == [] and approvals.approvals == []


async def test_push_subscription_lands_in_the_callers_tenant(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "omar")
    push = await tab.get_state(PushState)
    sub = {
        "endpoint": "https://push.example.net/send/abc123",
        "keys": {"p256dh": "BAbc-_", "auth": "xyz_-"},
    }
    assert await call(push, "save_subscription", sub) is None
    assert push.push_enabled and push.push_error == ""
    maple = demo.tenant("maple-court").id
    river = demo.tenant("riverside-lofts").id
    async with tenant_session(maple) as s:
        rows = (await s.exec(select(PushSubscription))).all()
    assert [(r.user_id, r.endpoint) for r in rows] == [
        (demo.user("maple-court", "omar").id, sub["endpoint"])
    ]
    async with tenant_session(river) as s:
        assert (await s.exec(select(PushSubscription))).all() == []
