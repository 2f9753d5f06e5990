"""The base state: login, logout, token refresh, and the guard on every handler."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.errors import Unauthorized
from app.domain.models import Message
from app.services import auth as service
from state.admin import AdminState
from state.approvals import ApprovalsState
from state.audit import AuditState, ChainState
from state.chat import ChatState
from state.integrations import IntegrationsState
from state.live import LiveState
from state.manager import ManagerState
from state.memory import MemoryState
from state.people import PeopleState
from state.push import PushState
from state.session import SessionState, _page_states
from state.usage import UsageState
from state.work import AlertsState, TasksState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, redirect_path, sign_in, toast

# Handlers that touch no tenant data, or check the session themselves (background
# events cannot be wrapped: they take the state lock with `async with self`).
UNGUARDED = {
    "setvar",  # Reflex's own; no setters exist (state_auto_setters is off)
    "set_draft",  # the chat draft, in the tab's own state only
    # The settings form's fields, in the tab's own state only (save is guarded).
    "set_quiet_hours",
    "set_push_from",
    "set_push_until",
    "set_delivery",
    "login",
    "logout",
    "poll_replies",  # background: checks the session under the lock each round
    "listen",  # background: checks the session under the lock each round
}


def test_every_data_handler_is_guarded() -> None:
    new_tab()  # imports and registers every page state
    classes: set[Any] = {SessionState, *_page_states()}
    assert {ChatState, AlertsState, TasksState, ApprovalsState, AdminState} <= classes
    assert {LiveState, PushState} <= classes
    unguarded = {
        f"{cls.__name__}.{name}"
        for cls in classes
        for name, handler in cls.event_handlers.items()
        if name not in UNGUARDED and not hasattr(handler.fn, "sb_guarded")
    }
    assert unguarded == set()


def test_admin_handlers_require_the_admin_role() -> None:
    console = (
        AdminState,
        AuditState,
        ChainState,
        PeopleState,
        MemoryState,
        UsageState,
        IntegrationsState,
    )
    for cls in console:
        handlers = cls.event_handlers.items()
        names = {n for n, _ in handlers if n != "setvar" and n in cls.__dict__}
        assert names, cls
        for name in names:
            guard = cls.event_handlers[name].fn.sb_guarded
            assert guard == frozenset({"admin"}), f"{cls.__name__}.{name}"
    for name in ("load_approvals", "decide"):
        assert ApprovalsState.event_handlers[name].fn.sb_guarded == {
            "admin",
            "manager",
        }
    # The manager's view of the console: approvals and their own teams.
    assert ManagerState.event_handlers["load_manager"].fn.sb_guarded == {
        "admin",
        "manager",
    }


async def test_login_keeps_the_access_token_on_the_server(demo: Demo) -> None:
    tab = new_tab()
    result = await sign_in(tab, "harbor-bistro", "maya")
    session = await tab.get_state(SessionState)
    assert redirect_path(result) == "/"
    assert session.role == "manager" and session.user_name == "Maya Chen"
    assert session.refresh_token.startswith(str(demo.tenant("harbor-bistro").id))
    # A backend var: never part of what the browser receives.
    assert session._access_token
    assert "_access_token" not in SessionState.base_vars
    sent = session.dict()[SessionState.get_full_name()]
    assert not any(k.startswith("_access_token") for k in sent)
    assert any(k.startswith("refresh_token") for k in sent)


async def test_login_with_a_wrong_password_shows_an_error(demo: Demo) -> None:
    tab = new_tab()
    session = await tab.get_state(SessionState)
    form = {
        "org": "harbor-bistro",
        "email": "maya@harbor-bistro.example",
        "password": "not-the-password",
    }
    assert await call(session, "login", form) is None
    assert session.login_error == "Wrong organisation, email or password."
    assert session.role == "" and session.refresh_token == ""


@pytest.mark.isolation
async def test_handler_without_session_redirects_and_keeps_the_draft(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    chat = await tab.get_state(ChatState)
    await call(chat, "set_draft", "Order more napkins")
    result = await call(chat, "send", {"body": "Order more napkins"})
    assert redirect_path(result) == "/login"
    assert chat.draft == "Order more napkins"
    async with tenant_session(demo.tenant("harbor-bistro").id) as s:
        assert (await s.exec(select(Message))).all() == []


@pytest.mark.isolation
async def test_forged_refresh_token_is_refused(demo: Demo) -> None:
    tab = new_tab()
    session = await tab.get_state(SessionState)
    session.refresh_token = f"{demo.tenant('harbor-bistro').id}.forged"
    alerts = await tab.get_state(AlertsState)
    assert redirect_path(await call(alerts, "load_alerts")) == "/login"
    assert alerts.alerts == [] and session.refresh_token == ""


async def test_expired_access_token_is_refreshed_and_rotated(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    session = await tab.get_state(SessionState)
    old = session.refresh_token
    session._access_token = ""  # as if its 15 minutes had passed
    alerts = await tab.get_state(AlertsState)
    assert await call(alerts, "load_alerts") is None
    assert session._access_token and session.refresh_token != old
    with pytest.raises(Unauthorized):
        await service.refresh(old)  # spent: reuse would revoke the family


async def test_checking_the_session_sends_the_tab_nothing_unchanged(
    demo: Demo,
) -> None:
    """Every event and every live delivery checks the session: a role that did not
    change is not sent again (with the vars computed from it)."""
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    session = await tab.get_state(SessionState)
    session.dirty_vars.clear()
    actor = await session._actor()
    assert actor.role == session.role == "employee"
    assert "role" not in session.dirty_vars
    session.role = "manager"  # what the tab was last sent, if the role changed
    session.dirty_vars.clear()
    await session._actor()
    assert session.role == "employee" and "role" in session.dirty_vars


@pytest.mark.isolation
async def test_session_revoked_elsewhere_sends_to_login(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    session = await tab.get_state(SessionState)
    await service.logout(session.refresh_token)
    session._access_token = ""
    tasks = await tab.get_state(TasksState)
    assert redirect_path(await call(tasks, "load_tasks")) == "/login"
    assert session.role == "" and session.next_path == "/"


async def test_logout_revokes_and_forgets_everything(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    session = await tab.get_state(SessionState)
    chat = await tab.get_state(ChatState)
    await call(chat, "load")
    chat.messages = [{"id": "x", "author": "user", "body": "secret", "status": "done"}]
    token = session.refresh_token
    assert redirect_path(await call(session, "logout")) == "/login"
    assert chat.messages == [] and session.role == "" and session.refresh_token == ""
    assert session._access_token == ""
    assert session.org_slug == "harbor-bistro"  # prefills the next sign-in
    with pytest.raises(Unauthorized):
        await service.refresh(token)


async def test_another_user_signing_in_on_the_tab_gets_empty_pages(
    demo: Demo,
) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    chat = await tab.get_state(ChatState)
    await call(chat, "set_draft", "maya's half-written note")
    session = await tab.get_state(SessionState)
    session._forget()  # the session expired
    await sign_in(tab, "harbor-bistro", "luis")
    assert chat.draft == "" and chat.messages == []


async def test_same_user_signing_in_again_gets_the_draft_back(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "maya")
    chat = await tab.get_state(ChatState)
    await call(chat, "set_draft", "Remind the kitchen")
    session = await tab.get_state(SessionState)
    session._forget()
    assert redirect_path(await call(chat, "load")) == "/login"
    await sign_in(tab, "harbor-bistro", "maya")
    assert chat.draft == "Remind the kitchen"


async def test_wrong_role_gets_a_toast_and_no_data(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")  # an employee
    approvals = await tab.get_state(ApprovalsState)
    assert "not allowed" in toast(await call(approvals, "load_approvals"))
    admin = await tab.get_state(AdminState)
    assert "not allowed" in toast(await call(admin, "create_user", {}))
    assert "not allowed" in toast(await call(admin, "set_disabled", "x", True))
    audit = await tab.get_state(AuditState)
    assert "not allowed" in toast(await call(audit, "export_csv"))
    assert admin.usage == [] and approvals.approvals == []


@pytest.mark.isolation
async def test_console_pages_refuse_other_roles_quietly(demo: Demo) -> None:
    """/admin for an employee or a manager: the page loads find no data and send
    no error toast (the page says "not available for your role")."""
    for handle in ("luis", "maya"):
        tab = new_tab()
        await sign_in(tab, "harbor-bistro", handle)
        admin = await tab.get_state(AdminState)
        audit = await tab.get_state(AuditState)
        chain = await tab.get_state(ChainState)
        assert await call(admin, "load_admin") is None
        assert await call(audit, "load_audit") is None
        assert await call(chain, "load_chain") is None
        people = await tab.get_state(PeopleState)
        assert await call(people, "load_people") is None
        assert people.people == [] and people.teams == []
        assert admin.usage == [] and audit.entries == [] and audit.messages == []
        assert not chain.found and chain.prompt == []
        assert "not allowed" in toast(await call(chain, "toggle_prompt"))
        assert chain.prompt == []
        session = await tab.get_state(SessionState)
        assert session.signed_in and not session.is_admin


async def test_admins_land_in_the_console_others_in_the_chat(demo: Demo) -> None:
    tab = new_tab()
    assert redirect_path(await sign_in(tab, "harbor-bistro", "admin")) == "/admin"
    tab = new_tab()
    assert redirect_path(await sign_in(tab, "harbor-bistro", "luis")) == "/"
    # Back where the session expired, whatever the role.
    tab = new_tab()
    session = await tab.get_state(SessionState)
    session.next_path = "/alerts"
    assert redirect_path(await sign_in(tab, "harbor-bistro", "admin")) == "/alerts"
    assert session.next_path == ""


def test_guard_hides_the_actor_from_the_handler_signature() -> None:
    sig = inspect.signature(TasksState.event_handlers["set_task_status"].fn)
    assert list(sig.parameters) == ["self", "task_id", "status"]


def test_post_login_destination_is_one_of_ours() -> None:
    from state.routes import safe_next

    assert safe_next("/alerts/") == "/alerts" and safe_next("/tasks") == "/tasks"
    assert safe_next("//evil.example/") == "/"
    assert safe_next("https://evil.example/alerts") == "/"
    assert safe_next("/operator") == "/" and safe_next("") == "/"


def test_the_browser_cannot_set_session_vars() -> None:
    """Reflex's generic setvar only reaches explicit setters: there are none for
    the role, the name or the tokens (state_auto_setters is off)."""
    setvar = SessionState.event_handlers["setvar"]
    for name in ("role", "user_name", "refresh_token", "_access_token", "unread"):
        with pytest.raises(AttributeError):
            setvar(name, "admin")
    assert ChatState.event_handlers["setvar"]("draft", "x") is not None
