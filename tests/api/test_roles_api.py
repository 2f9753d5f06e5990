"""Roles on the entry points: residents, employees, managers, admins, operators."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.models import Task
from tests.api import objects
from tests.api.objects import auth
from tests.conftest import Demo

M = "maple-court"
ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/users", None),
    (
        "POST",
        "/api/v1/admin/users",
        {
            "email": "new@maple-court.example",
            "name": "New",
            "role": "admin",
            "password": "long-enough-pw",
        },
    ),
    ("GET", "/api/v1/admin/api-keys", None),
    ("POST", "/api/v1/admin/api-keys", {"name": "sneaky"}),
]


async def _approval_state(row: object) -> str:
    now = await objects.reload(row)
    return str(now.status)


@pytest.mark.parametrize("who", ["ben", "omar"])  # a resident, an employee
async def test_only_approvers_approve(
    client: httpx.AsyncClient, demo: Demo, who: str
) -> None:
    row = await objects.approval(demo.user(M, "grace"))
    caller = auth(demo.user(M, who))
    for url in (
        f"/api/v1/approvals/{row.id}/approve",
        f"/api/v1/approvals/{row.id}/reject",
    ):
        resp = await client.post(url, headers=caller)
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"] == "forbidden"
    listed = await client.get("/api/v1/approvals", headers=caller)
    assert listed.status_code == 403
    assert await _approval_state(row) == "pending"


async def test_manager_approves_and_the_action_runs(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    grace, dana = demo.user(M, "grace"), demo.user(M, "dana")
    row = await objects.approval(grace, "Replace the hallway bulbs")
    pending = await client.get("/api/v1/approvals", headers=auth(dana))
    assert [a["id"] for a in pending.json()] == [str(row.id)]
    # The requester cannot decide on their own request, whatever their role.
    own = await client.post(f"/api/v1/approvals/{row.id}/approve", headers=auth(grace))
    assert own.status_code == 403
    resp = await client.post(f"/api/v1/approvals/{row.id}/approve", headers=auth(dana))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "approved"
    assert resp.json()["decided_by"] == str(dana.id)
    async with tenant_session(dana.tenant_id) as s:
        tasks = (await s.exec(select(Task))).all()
    assert [t.title for t in tasks] == ["Replace the hallway bulbs"]
    twice = await client.post(f"/api/v1/approvals/{row.id}/reject", headers=auth(dana))
    assert twice.status_code == 409 and twice.json()["error"] == "conflict"


async def test_manager_rejects(client: httpx.AsyncClient, demo: Demo) -> None:
    row = await objects.approval(demo.user(M, "omar"))
    resp = await client.post(
        f"/api/v1/approvals/{row.id}/reject", headers=auth(demo.user(M, "dana"))
    )
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    async with tenant_session(row.tenant_id) as s:
        assert (await s.exec(select(Task))).all() == []


async def test_resident_sees_only_own_tasks(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    ben, alice, tom = demo.user(M, "ben"), demo.user(M, "alice"), demo.user(M, "tom")
    tid = ben.tenant_id
    bens = await objects.task(tid, title="Ben's leak", created_by=ben.id)
    unit = await objects.task(tid, title="Unit 4B smoke alarm", unit_id=ben.unit_id)
    alices = await objects.task(tid, title="Alice's door", created_by=alice.id)
    staff = await objects.task(
        tid,
        title="Staff only",
        assignee_team_id=demo.team(M, "maintenance").id,
    )
    toms = await objects.task(tid, title="Tom's window", assignee_user_id=tom.id)
    resp = await client.get("/api/v1/tasks", headers=auth(ben))
    assert resp.status_code == 200
    assert {t["id"] for t in resp.json()} == {str(bens.id), str(unit.id)}
    for other in (alices, staff, toms):
        one = await client.get(f"/api/v1/tasks/{other.id}", headers=auth(ben))
        assert one.status_code == 404
        patch = await client.patch(
            f"/api/v1/tasks/{other.id}", json={"status": "done"}, headers=auth(ben)
        )
        assert patch.status_code == 404
        assert (await objects.reload(other)).status == "open"
    # A resident may cancel their own request, not mark work done.
    done = await client.patch(
        f"/api/v1/tasks/{bens.id}", json={"status": "done"}, headers=auth(ben)
    )
    assert done.status_code == 403
    cancelled = await client.patch(
        f"/api/v1/tasks/{bens.id}", json={"status": "cancelled"}, headers=auth(ben)
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    # The manager sees them all.
    everything = await client.get("/api/v1/tasks", headers=auth(demo.user(M, "dana")))
    assert len(everything.json()) == 5


async def test_employee_sees_team_tasks_only(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    tid = demo.tenant(M).id
    mine = await objects.task(tid, assignee_team_id=demo.team(M, "maintenance").id)
    theirs = await objects.task(tid, assignee_team_id=demo.team(M, "cleaning").id)
    resp = await client.get("/api/v1/tasks", headers=auth(demo.user(M, "omar")))
    assert {t["id"] for t in resp.json()} == {str(mine.id)}
    assert (
        await client.get(
            f"/api/v1/tasks/{theirs.id}", headers=auth(demo.user(M, "omar"))
        )
    ).status_code == 404


@pytest.mark.parametrize("who", ["ben", "omar", "dana"])
@pytest.mark.parametrize(("method", "url", "body"), ADMIN_ROUTES)
async def test_admin_routes_refuse_non_admins(
    client: httpx.AsyncClient,
    demo: Demo,
    who: str,
    method: str,
    url: str,
    body: dict[str, str] | None,
) -> None:
    resp = await client.request(method, url, json=body, headers=auth(demo.user(M, who)))
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"] == "forbidden"


async def test_admin_routes_on_ids_refuse_non_admins(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    target = demo.user(M, "omar")
    for who in ("ben", "dana"):
        resp = await client.post(
            f"/api/v1/admin/users/{target.id}/disable", headers=auth(demo.user(M, who))
        )
        assert resp.status_code == 403
    assert (await objects.reload(target)).disabled is False


async def test_resident_cannot_read_other_residents_data(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    ben, alice = demo.user(M, "ben"), demo.user(M, "alice")
    await objects.message(alice, "alice's question")
    await objects.notification(alice)
    msgs = await client.get("/api/v1/messages", headers=auth(ben))
    notes = await client.get("/api/v1/notifications", headers=auth(ben))
    assert msgs.json() == [] and notes.json() == []


async def test_operator_cannot_read_tenant_content(
    client: httpx.AsyncClient, demo: Demo, operator: tuple[object, str, str]
) -> None:
    op_headers = objects.operator_auth(operator[0])  # type: ignore[arg-type]
    for method, url in (
        ("GET", "/api/v1/messages"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/approvals"),
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v1/push/subscriptions"),
    ):
        resp = await client.request(method, url, headers=op_headers)
        assert resp.status_code == 401, url
    for who in ("admin", "dana", "ben"):
        resp = await client.get(
            "/api/v1/operator/tenants", headers=auth(demo.user(M, who))
        )
        assert resp.status_code == 401
