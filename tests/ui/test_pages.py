"""Page handlers beneath the UI: chat, tasks, alerts, approvals, admin, push."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.core.settings import get_settings
from app.domain.models import (
    AssistantRun,
    AuditEvent,
    Message,
    Notification,
    ProposedAction,
    Unit,
    User,
    utcnow,
)
from app.services.conversation import conversation_page
from app.services.notifications import notify_users
from state.admin import AdminState
from state.approvals import ApprovalsState
from state.audit import AuditState
from state.chat import ChatState
from state.people import PeopleState
from state.push import PushState, subscribe_script, subscription_fields
from state.session import SessionState
from state.work import AlertsState, TasksState
from tests.auth.conftest import clear_rate_limits
from tests.conftest import Demo
from tests.ui.conftest import (
    call,
    new_tab,
    other_tenant_rows,
    redirect_path,
    sign_in,
    toast,
    unread_in_rows,
)


async def _messages(demo: Demo, slug: str) -> list[Message]:
    async with tenant_session(demo.tenant(slug).id) as s:
        return list((await s.exec(select(Message))).all())


async def test_send_stores_once_even_when_submitted_twice(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    chat = await tab.get_state(ChatState)
    text = "Remind the kitchen team to deep clean the walk-in fridge on Friday."
    await call(chat, "set_draft", text)
    first = await call(chat, "send", {"body": text})
    assert first is not None and chat.draft == ""
    # A double click: the second submit carries the same text, nothing was typed.
    await call(chat, "send", {"body": text})
    rows = await _messages(demo, "harbor-bistro")
    assert [m.body for m in rows] == [text]
    assert rows[0].client_message_id.startswith("web-")
    assert [m["body"] for m in chat.messages] == [text]
    # Typing again (even the same words) is a new message.
    await call(chat, "set_draft", "Remind")
    await call(chat, "set_draft", text)
    await call(chat, "send", {"body": text})
    assert len(await _messages(demo, "harbor-bistro")) == 2


async def test_send_after_an_expired_session_resends_the_same_message(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    chat = await tab.get_state(ChatState)
    session = await tab.get_state(SessionState)
    await call(chat, "set_draft", "Order lemons")
    session._forget()  # expired while typing
    assert redirect_path(await call(chat, "send", {"body": "Order lemons"})) == (
        "/login"
    )
    await sign_in(tab, "harbor-bistro", "maya")
    assert chat.draft == "Order lemons"
    await call(chat, "send", {"body": chat.draft})
    assert [m.body for m in await _messages(demo, "harbor-bistro")] == ["Order lemons"]


async def test_empty_or_oversized_messages(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    chat = await tab.get_state(ChatState)
    assert await call(chat, "send", {"body": "   "}) is None
    await call(chat, "send", {"body": "x" * 5000})  # cut to the 4000 allowed
    [row] = await _messages(demo, "harbor-bistro")
    assert len(row.body) == 4000


async def test_offline_model_is_labelled(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    chat = await tab.get_state(ChatState)
    await call(chat, "send", {"body": "What is on Thursday?"})
    tid = demo.tenant("harbor-bistro").id
    [question] = await _messages(demo, "harbor-bistro")
    async with tenant_session(tid) as s:
        s.add(
            Message(
                tenant_id=tid,
                conversation_id=question.conversation_id,
                author="assistant",
                sender_key="assistant",
                client_message_id=f"reply-{question.id}",
                body="GreenFarm delivers on Thursday at 7am.",
                status="done",
                reply_to_id=question.id,
            )
        )
        s.add(
            AssistantRun(
                tenant_id=tid, message_id=question.id, model="switchboard/offline"
            )
        )
    await call(chat, "load")
    assert chat.offline_model is True  # the default model is the offline one
    assert [(m["author"], m["offline"]) for m in chat.messages] == [
        ("user", ""),
        ("assistant", "1"),
    ]
    assert chat.waiting_for_reply is False


async def test_conversation_is_the_callers_own(demo: Demo, clean_db: None) -> None:
    maya_tab, luis_tab = new_tab(), new_tab()
    await sign_in(maya_tab, "harbor-bistro", "maya")
    await sign_in(luis_tab, "harbor-bistro", "luis")
    await call(await maya_tab.get_state(ChatState), "send", {"body": "for maya only"})
    luis_chat = await luis_tab.get_state(ChatState)
    await call(luis_chat, "load")
    assert luis_chat.messages == []
    from app.domain.actor import Actor

    luis = demo.user("harbor-bistro", "luis")
    page = await conversation_page(Actor(luis.tenant_id, luis.id, "employee"))
    assert page.messages == [] and page.more is False


async def test_alerts_mark_read_and_unread_count(demo: Demo, clean_db: None) -> None:
    tid = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    async with tenant_session(tid) as s:
        fridge = await notify_users(
            s,
            tid,
            [luis.id],
            kind="notify",
            title="Fridge",
            body="Deep clean Friday",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
        await notify_users(
            s,
            tid,
            [luis.id],
            kind="notify",
            title="Lemons",
            body="",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    alerts = await tab.get_state(AlertsState)
    session = await tab.get_state(SessionState)
    await call(alerts, "load_alerts")
    assert session.unread == 2 == unread_in_rows(alerts.alerts)
    await call(alerts, "mark_read", str(fridge[0]))
    assert session.unread == 1 == unread_in_rows(alerts.alerts)
    await call(alerts, "mark_all_read")
    assert session.unread == 0 == unread_in_rows(alerts.alerts)
    async with tenant_session(tid) as s:
        unread = (
            await s.exec(select(Notification).where(Notification.read_at == None))  # noqa: E711
        ).all()
    assert unread == []


async def test_task_status_update(demo: Demo, clean_db: None) -> None:
    rows = await other_tenant_rows(demo, "harbor-bistro", "luis")
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    tasks = await tab.get_state(TasksState)
    await call(tasks, "load_tasks")
    assert [t["title"] for t in tasks.tasks] == ["private task"]
    await call(tasks, "set_task_status", str(rows["task"].id), "in_progress")
    assert tasks.tasks[0]["status"] == "in_progress"
    assert "Unknown status." in toast(
        await call(tasks, "set_task_status", str(rows["task"].id), "exploded")
    )


async def test_residents_cannot_open_tasks(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "ben")
    tasks = await tab.get_state(TasksState)
    assert "not allowed" in toast(await call(tasks, "load_tasks"))


async def test_manager_decides_an_approval(demo: Demo, clean_db: None) -> None:
    rows = await other_tenant_rows(demo, "harbor-bistro", "luis")
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    approvals = await tab.get_state(ApprovalsState)
    await call(approvals, "load_approvals")
    assert [a["summary"] for a in approvals.approvals] == ["Buy a fridge"]
    result = await call(approvals, "decide", str(rows["approval"].id), False)
    assert "Rejected." in toast(result).replace("\\", "")
    assert approvals.approvals == []


async def test_admin_creates_and_disables_a_user(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "admin")
    admin = await tab.get_state(AdminState)
    await call(admin, "load_admin")
    people = await tab.get_state(PeopleState)
    await call(people, "load_people")
    assert {t["name"] for t in people.teams} >= {"Kitchen", "Management"}
    email = f"new-{uuid.uuid4().hex[:8]}@harbor-bistro.example"
    form = {"name": "Nia", "email": email, "role": "employee", "password": "short"}
    assert await call(admin, "create_user", form) is None
    assert "at least 10" in admin.create_error
    form["password"] = "long-enough-password"
    await call(admin, "create_user", form)
    assert admin.create_error == ""
    [row] = [u for u in people.people if u["email"] == email]
    assert row["state"] == "active"
    await call(admin, "set_disabled", row["id"], True)
    [row] = [u for u in people.people if u["email"] == email]
    assert row["state"] == "disabled"
    own = demo.user("harbor-bistro", "admin")
    assert "your own" in toast(await call(admin, "set_disabled", str(own.id), True))
    audit = await tab.get_state(AuditState)  # refreshed by the change itself
    kinds = [a["kind"] for a in audit.entries]
    assert "user.created" in kinds and "user.disabled" in kinds
    assert any(a["actor"] == "Harbor Admin" for a in audit.entries)
    assert any(a["subject"] == "Nia" for a in audit.entries)  # ids → names
    async with tenant_session(demo.tenant("harbor-bistro").id) as s:
        user = (await s.exec(select(User).where(User.email == email))).one()
        assert user.disabled
        await s.delete(user)
        events = (await s.exec(select(AuditEvent))).all()
    assert len(events) >= 2


async def test_admin_usage_per_month(demo: Demo, clean_db: None) -> None:
    from app.domain.models import LlmUsage

    tid = demo.tenant("harbor-bistro").id
    async with tenant_session(tid) as s:
        for tokens in (100, 300):
            s.add(
                LlmUsage(
                    tenant_id=tid,
                    model="switchboard/offline",
                    prompt_tokens=tokens,
                    completion_tokens=50,
                    cost_usd=0.001,
                    latency_ms=tokens,
                )
            )
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "admin")
    admin = await tab.get_state(AdminState)
    await call(admin, "load_admin")
    [month] = admin.usage
    assert month["month"] == utcnow().strftime("%Y-%m")
    assert month["calls"] == "2" and month["tokens"] == "500"
    assert month["cost"] == "$0.0020"


def test_push_subscription_fields() -> None:
    good = {"endpoint": "https://p.example/x", "keys": {"p256dh": "a", "auth": "b"}}
    assert subscription_fields(good) == ("https://p.example/x", "a", "b")
    assert subscription_fields({"endpoint": "https://p.example/x"}) is None
    assert subscription_fields({"error": "blocked"}) is None
    assert subscription_fields(None) is None
    script = subscribe_script("BKey_-", ask=False)
    assert '"BKey_-"' in script and "const ask = false" in script


async def test_push_errors_are_shown_and_bad_endpoints_refused(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    push = await tab.get_state(PushState)
    await call(push, "save_subscription", {"error": "Notifications are blocked."})
    assert push.push_error == "Notifications are blocked." and not push.push_enabled
    local = {
        "endpoint": "https://localhost/push",
        "keys": {"p256dh": "abc", "auth": "def"},
    }
    assert "public push service" in toast(await call(push, "save_subscription", local))
    assert not push.push_enabled
    result = await call(push, "enable_push")
    assert result.handler.fn.__qualname__ == "_call_script"


async def test_times_are_shown_in_the_organisations_zone(
    demo: Demo, clean_db: None
) -> None:
    from datetime import UTC, datetime

    from app.domain.models import Task

    tid = demo.tenant("harbor-bistro").id  # America/New_York
    luis = demo.user("harbor-bistro", "luis")
    due = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)  # Friday 10pm in New York
    async with tenant_session(tid) as s:
        s.add(Task(tenant_id=tid, title="Fridge", assignee_user_id=luis.id, due_at=due))
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    tasks = await tab.get_state(TasksState)
    await call(tasks, "load_tasks")
    assert [t["due"] for t in tasks.tasks] == ["Fri 06 Mar 22:00"]


async def test_chat_applies_the_message_rate_limit(
    demo: Demo, clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await clear_rate_limits()
    # On the cached settings object, which monkeypatch restores: an environment
    # variable and a cache clear left the limit at 2 for every later test that
    # read the settings before the variable was restored.
    monkeypatch.setattr(get_settings(), "message_rate_per_minute", 2)
    try:
        tab = new_tab()
        await sign_in(tab, "harbor-bistro", "luis")
        chat = await tab.get_state(ChatState)
        for text in ("one", "two"):
            await call(chat, "set_draft", text)
            await call(chat, "send", {"body": text})
        await call(chat, "set_draft", "three")
        result = await call(chat, "send", {"body": "three"})
        assert "Retry" in toast(result) or "again" in toast(result).lower()
        assert chat.draft == "three"
        assert [m.body for m in await _messages(demo, "harbor-bistro")] == [
            "one",
            "two",
        ]
    finally:
        await clear_rate_limits()


async def test_admin_saves_the_assistant_policy(demo: Demo, clean_db: None) -> None:
    from state.admin import AdminState

    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "admin")
    admin = await tab.get_state(AdminState)
    await call(admin, "load_admin")
    assert admin.approval_flags["cancel_service"] is True
    before = (admin.purchase_threshold, admin.token_budget)
    try:
        await call(admin, "set_approval_flag", "create_task", True)
        await call(admin, "set_purchase_threshold", "350")
        result = await call(admin, "save_settings")
        assert "Settings saved" in toast(result)
        from app.services.tenant_settings import get_settings_for
        from tests.api.objects import actor

        view = await get_settings_for(actor(demo.user("harbor-bistro", "admin")))
        assert view.approval_required == ["cancel_service", "create_task"]
        assert view.purchase_approval_over == 350
        await call(admin, "set_token_budget", "lots")
        await call(admin, "save_settings")
        assert admin.settings_error == "Threshold and budget must be numbers."
    finally:
        await call(admin, "set_approval_flag", "create_task", False)
        await call(admin, "set_purchase_threshold", before[0])
        await call(admin, "set_token_budget", before[1])
        await call(admin, "save_settings")


async def test_task_rows_say_where_and_for_which_team(
    demo: Demo, clean_db: None
) -> None:
    from app.domain.models import Task
    from state.work import task_rows
    from tests.api.objects import actor

    omar = demo.user("maple-court", "omar")
    prop = demo.property("maple-court", "maple-court-12")
    team = demo.team("maple-court", "maintenance")
    async with tenant_session(omar.tenant_id) as s:
        unit_id = (
            await s.exec(
                select(Unit.id).where(Unit.property_id == prop.id, Unit.label == "4B")
            )
        ).one()
        s.add(
            Task(
                tenant_id=omar.tenant_id,
                title="Sink leaking",
                details="Sink leaking.",
                assignee_team_id=team.id,
                property_id=prop.id,
                unit_id=unit_id,
                priority="urgent",
            )
        )
    (row,) = await task_rows(actor(omar))
    assert row["where"] == "Maple Court · 4B · Maintenance"
    assert row["details"] == ""  # the same words as the title are not repeated
    assert row["priority"] == "urgent"


async def test_approval_amounts_show_the_organisations_currency(
    demo: Demo, clean_db: None
) -> None:
    """The admin picks the currency in the settings form; the manager's pending
    purchase then reads in it, not as a bare number."""
    rows = await other_tenant_rows(demo, "harbor-bistro", "luis")
    tid = rows["tenant_id"]
    async with tenant_session(tid) as s:
        action = await s.get(ProposedAction, (tid, rows["approval"].action_id))
        assert action is not None
        action.type = "create_task"
        action.payload = {"title": "Buy a fridge", "cost": 1250.5}
        s.add(action)
    admin_tab = new_tab()
    await sign_in(admin_tab, "harbor-bistro", "admin")
    admin = await admin_tab.get_state(AdminState)
    await call(admin, "load_admin")
    assert admin.currency == "USD"
    manager_tab = new_tab()
    await sign_in(manager_tab, "harbor-bistro", "maya")
    approvals = await manager_tab.get_state(ApprovalsState)
    await call(approvals, "load_approvals")
    assert [a["amount"] for a in approvals.approvals] == ["$1,250.50"]
    try:
        await call(admin, "set_currency", "EUR")
        assert "Settings saved" in toast(await call(admin, "save_settings"))
        await call(approvals, "load_approvals")
        assert [a["amount"] for a in approvals.approvals] == ["€1,250.50"]
    finally:
        await call(admin, "set_currency", "USD")
        await call(admin, "save_settings")
