"""Driving the real state classes beneath the UI: a state tree per "tab", the real
handlers called as Reflex calls them (EventHandler.fn), real PostgreSQL and Redis.

No browser and no socket: what a handler returns (a redirect, a toast) is inspected
as the EventSpec Reflex would send.
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from reflex.state import State
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.core.settings import get_settings
from app.domain.models import (
    Approval,
    Message,
    Notification,
    ProposedAction,
    Task,
    utcnow,
)
from app.services.messages import conversation_for
from app.services.notifications import notify_users
from tests.auth.conftest import clear_rate_limits
from tests.conftest import Demo

# Reflex refuses direct state instantiation outside its test mode.
os.environ.setdefault("PYTEST_CURRENT_TEST", "tests/ui")

PASSWORD = get_settings().demo_password
EMAILS = {
    ("harbor-bistro", "maya"): "maya@harbor-bistro.example",
    ("harbor-bistro", "luis"): "luis@harbor-bistro.example",
    ("harbor-bistro", "priya"): "priya@harbor-bistro.example",
    ("harbor-bistro", "admin"): "admin@harbor-bistro.example",
    ("maple-court", "dana"): "dana@maple-court.example",
    ("maple-court", "admin"): "admin@maple-court.example",
    ("maple-court", "ben"): "ben@maple-court.example",
    ("maple-court", "omar"): "omar@maple-court.example",
    ("riverside-lofts", "rita"): "rita@riverside-lofts.example",
    ("riverside-lofts", "admin"): "admin@riverside-lofts.example",
}


@pytest.fixture(autouse=True)
async def fresh_rate_limits(stack: None) -> AsyncIterator[None]:
    await clear_rate_limits()
    yield


def new_tab() -> State:
    """A fresh root state: what one browser tab holds on the server."""
    import app.app  # noqa: F401  (registers every page state)

    return State(_reflex_internal_init=True)  # type: ignore[call-arg]


async def call(state: Any, name: str, *args: Any) -> Any:
    """Run an event handler of `state` the way Reflex does: the wrapped function,
    arguments by name (`fn(state, **payload)`)."""
    handler = type(state).event_handlers[name]
    names = list(inspect.signature(handler.fn).parameters)[1:]
    result = handler.fn(state, **dict(zip(names, args, strict=True)))
    return await result if inspect.isawaitable(result) else result


async def sign_in(tab: State, slug: str, handle: str) -> Any:
    from state.session import SessionState

    session = await tab.get_state(SessionState)
    result = await call(
        session,
        "login",
        {"org": slug, "email": EMAILS[(slug, handle)], "password": PASSWORD},
    )
    assert session.role, f"login failed: {session.login_error}"
    return result


def _args(result: Any) -> dict[str, Any]:
    return {str(name): value for name, value in (result.args or ())}


def redirect_path(result: Any) -> str | None:
    """Where a returned rx.redirect goes (None if `result` is not a redirect)."""
    if result is None or result.handler.fn.__qualname__ != "_redirect":
        return None
    return str(_args(result)["path"]._var_value)


def toast(result: Any) -> str:
    """The JS of a returned rx.toast (level and message), '' if not a toast."""
    if result is None or result.handler.fn.__qualname__ != "_call_function":
        return ""
    text = str(_args(result)["function"])
    return text if "__toast" in text else ""


async def pending_approval(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    client_id: str,
    body: str,
    summary: str,
    expires_in: timedelta,
) -> tuple[Message, Approval]:
    """A message of `user_id` whose proposed notify waits for a manager."""
    conv = await conversation_for(session, tenant_id, user_id)  # one per user
    msg = Message(
        tenant_id=tenant_id,
        conversation_id=conv.id,
        sender_user_id=user_id,
        sender_key=f"user:{user_id}",
        client_message_id=client_id,
        body=body,
    )
    session.add(msg)
    await session.flush()
    action = ProposedAction(
        tenant_id=tenant_id,
        message_id=msg.id,
        type="notify",
        payload={},
        payload_hash="0" * 64,
        status="pending_approval",
        requested_by=user_id,
    )
    session.add(action)
    await session.flush()
    approval = Approval(
        tenant_id=tenant_id,
        action_id=action.id,
        required_role="manager",
        requested_by=user_id,
        payload_hash="0" * 64,
        summary=summary,
        expires_at=utcnow() + expires_in,
    )
    session.add(approval)
    return msg, approval


async def other_tenant_rows(demo: Demo, slug: str, handle: str) -> dict[str, Any]:
    """A notification, a task and a pending approval in `slug`, for `handle`."""
    tid = demo.tenant(slug).id
    user = demo.user(slug, handle)
    tag = uuid.uuid4().hex[:10]
    async with tenant_session(tid) as s:
        msg, approval = await pending_approval(
            s,
            tid,
            user.id,
            f"t-{tag}",
            "buy a new fridge",
            "Buy a fridge",
            timedelta(hours=48),
        )
        note = Notification(
            tenant_id=tid,
            user_id=user.id,
            kind="notify",
            title="private note",
            dedupe_key=f"t-{tag}",
        )
        task = Task(tenant_id=tid, title="private task", assignee_user_id=user.id)
        s.add_all([approval, note, task])
        await s.flush()
    return {
        "tenant_id": tid,
        "user": user,
        "approval": approval,
        "notification": note,
        "task": task,
        "message": msg,
    }


def unread_in_rows(rows: list[dict[str, str]]) -> int:
    """The unread alerts the inbox rows show (each row counts its group's)."""
    return sum(int(r["unread_n"] or 0) for r in rows)


async def notify_one(
    tenant_id: uuid.UUID, user_id: uuid.UUID, title: str, task_id: str = ""
) -> uuid.UUID:
    """One notification in its own transaction (its own created_at): about a
    request when `task_id` is given, else from a sender named by the title."""
    async with tenant_session(tenant_id) as s:
        (added,) = await notify_users(
            s,
            tenant_id,
            [user_id],
            kind="request" if task_id else "notify",
            title=title,
            body=f"About {title}",
            dedupe_key=f"t:{uuid.uuid4().hex}",
            data={"task_id": task_id} if task_id else None,
        )
    return added
