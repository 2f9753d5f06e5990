"""Cross-tenant ids on every route that takes one: another organisation's object
answers 404 exactly like a missing one, and nothing changes in the database.

The callers are the most privileged members of tenant A (its admin or manager), so
a 404 is about the tenant, never about the role.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import Task
from app.services import api_keys
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo

pytestmark = pytest.mark.isolation

A = "maple-court"
B = "riverside-lofts"


@dataclass
class Case:
    method: str
    template: str  # the route with "{id}" where the object's id goes
    object_id: uuid.UUID
    caller: Any
    unchanged: Callable[[], Awaitable[None]]
    json: dict[str, Any] | None = None

    def url(self, object_id: uuid.UUID | None = None) -> str:
        return self.template.format(id=object_id or self.object_id)


async def _message(demo: Demo) -> Case:
    row = await objects.message(demo.user(B, "rita"), "B's private message")

    async def unchanged() -> None:
        assert (await objects.reload(row)).body == "B's private message"

    return Case("GET", "/api/v1/messages/{id}", row.id, demo.user(A, "dana"), unchanged)


async def _task_get(demo: Demo) -> Case:
    row = await objects.task(demo.tenant(B).id, title="B's task")

    async def unchanged() -> None:
        assert (await objects.reload(row)).title == "B's task"

    return Case("GET", "/api/v1/tasks/{id}", row.id, demo.user(A, "admin"), unchanged)


async def _task_patch(demo: Demo) -> Case:
    row = await objects.task(demo.tenant(B).id, title="B's task")

    async def unchanged() -> None:
        now = await objects.reload(row)
        assert now.status == "open" and now.updated_at == row.updated_at

    return Case(
        "PATCH",
        "/api/v1/tasks/{id}",
        row.id,
        demo.user(A, "admin"),
        unchanged,
        {"status": "cancelled"},
    )


async def _approval(demo: Demo, verb: str) -> Case:
    row = await objects.approval(demo.user(B, "omar"), "B buys a boiler")

    async def unchanged() -> None:
        now = await objects.reload(row)
        assert now.status == "pending" and now.decided_by is None
        async with tenant_session(row.tenant_id) as s:
            assert (await s.exec(select(Task))).all() == []

    return Case(
        "POST",
        "/api/v1/approvals/{id}/" + verb,
        row.id,
        demo.user(A, "admin"),
        unchanged,
    )


async def _approve(demo: Demo) -> Case:
    return await _approval(demo, "approve")


async def _reject(demo: Demo) -> Case:
    return await _approval(demo, "reject")


async def _notification(demo: Demo) -> Case:
    # Same handle in both tenants: ids, not names, decide.
    row = await objects.notification(demo.user(B, "omar"))

    async def unchanged() -> None:
        assert (await objects.reload(row)).read_at is None

    return Case(
        "POST",
        "/api/v1/notifications/{id}/read",
        row.id,
        demo.user(A, "omar"),
        unchanged,
    )


async def _push(demo: Demo) -> Case:
    row = await objects.push_subscription(demo.user(B, "ben"))

    async def unchanged() -> None:
        assert await objects.reload(row) is not None

    return Case(
        "DELETE",
        "/api/v1/push/subscriptions/{id}",
        row.id,
        demo.user(A, "ben"),
        unchanged,
    )


async def _user(demo: Demo, verb: str) -> Case:
    target = demo.user(B, "omar")

    async def unchanged() -> None:
        assert (await objects.reload(target)).disabled is False

    return Case(
        "POST",
        "/api/v1/admin/users/{id}/" + verb,
        target.id,
        demo.user(A, "admin"),
        unchanged,
    )


async def _user_disable(demo: Demo) -> Case:
    return await _user(demo, "disable")


async def _user_enable(demo: Demo) -> Case:
    return await _user(demo, "enable")


async def _api_key(demo: Demo) -> Case:
    created = await api_keys.create_api_key(objects.actor(demo.user(B, "admin")), "B")

    async def unchanged() -> None:
        assert (await objects.reload(created.key)).revoked_at is None
        # ...and the key still works.
        assert (await api_keys.authenticate(created.plaintext)).tenant_id == (
            created.key.tenant_id
        )

    return Case(
        "POST",
        "/api/v1/admin/api-keys/{id}/revoke",
        created.key.id,
        demo.user(A, "admin"),
        unchanged,
    )


CASES: dict[str, Callable[[Demo], Awaitable[Case]]] = {
    "message": _message,
    "task-get": _task_get,
    "task-patch": _task_patch,
    "approval-approve": _approve,
    "approval-reject": _reject,
    "notification-read": _notification,
    "push-subscription-delete": _push,
    "user-disable": _user_disable,
    "user-enable": _user_enable,
    "api-key-revoke": _api_key,
}


@pytest.mark.parametrize("name", list(CASES))
async def test_other_tenants_id_is_404_and_changes_nothing(
    client: httpx.AsyncClient, demo: Demo, name: str
) -> None:
    case = await CASES[name](demo)
    resp = await client.request(
        case.method, case.url(), json=case.json, headers=auth(case.caller)
    )
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"] == "not_found"
    await case.unchanged()
    # The same answer as an id that exists nowhere: nothing is confirmed.
    missing = await client.request(
        case.method,
        case.url(uuid.uuid4()),
        json=case.json,
        headers=auth(case.caller),
    )
    assert (missing.status_code, missing.json()) == (resp.status_code, resp.json())


async def test_not_yours_inside_the_tenant_is_also_404(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    alice, ben = demo.user(A, "alice"), demo.user(A, "ben")
    note = await objects.notification(alice)
    sub = await objects.push_subscription(alice)
    msg = await objects.message(alice, "alice's message")
    for method, url in (
        ("POST", f"/api/v1/notifications/{note.id}/read"),
        ("DELETE", f"/api/v1/push/subscriptions/{sub.id}"),
        ("GET", f"/api/v1/messages/{msg.id}"),
    ):
        resp = await client.request(method, url, headers=auth(ben))
        assert resp.status_code == 404, url
    assert (await objects.reload(note)).read_at is None
    assert await objects.reload(sub) is not None


async def test_lists_only_show_own_tenant(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    b_task = await objects.task(demo.tenant(B).id, title="B only")
    b_approval = await objects.approval(demo.user(B, "omar"))
    a_admin = demo.user(A, "admin")
    tasks = (await client.get("/api/v1/tasks", headers=auth(a_admin))).json()
    approvals = (await client.get("/api/v1/approvals", headers=auth(a_admin))).json()
    users = (await client.get("/api/v1/admin/users", headers=auth(a_admin))).json()
    assert str(b_task.id) not in {t["id"] for t in tasks}
    assert str(b_approval.id) not in {a["id"] for a in approvals}
    assert {u["email"].split("@")[1] for u in users} == {"maple-court.example"}
