"""Every change made in the console is in the audit log.

Every handler of every console state (admin, manager, operator) is classified as
a write or not; a new handler fails the first test until it is. The second walks
every write through its real handler, on a fresh organisation, and finds the
audit row each one left, by the right actor."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import select

from app.core.db import platform_session, tenant_session
from app.domain.models import (
    AuditEvent,
    Operator,
    User,
)
from state.admin import AdminState
from state.approvals import ApprovalsState
from state.chat import ChatState
from state.integrations import IntegrationsState
from state.live import LiveState
from state.memory import MemoryState
from state.operator import OperatorState
from state.people import PeopleState
from state.properties import PropertiesState
from state.push import PushState
from state.requests import RequestsState
from state.session import SessionState, _page_states
from state.settings import SettingsState
from state.work import AlertsState, TasksState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, pending_approval, toast
from tests.ui.test_operator import OP_PASSWORD, operator  # noqa: F401

# The phone app's pages: not the console.
APP_STATES = {
    SessionState,
    ChatState,
    RequestsState,
    TasksState,
    AlertsState,
    PushState,
    LiveState,
    SettingsState,  # the person's own notification preferences
}

# Console handlers that change something, and the audit kind each one leaves.
WRITES = {
    "AdminState.save_settings": "tenant.settings_updated",
    "AdminState.create_user": "user.created",
    "AdminState.set_disabled": "user.disabled",
    "PeopleState.save_person": "user.role_changed",
    "PeopleState.save_team": "team.created",
    "MemoryState.add": "memory.created",
    "MemoryState.save_edit": "memory.updated",
    "MemoryState.forget": "memory.forgotten",
    "IntegrationsState.create_key": "apikey.created",
    "IntegrationsState.revoke_key": "apikey.revoked",
    "ApprovalsState.decide": "approval.rejected",
    "PropertiesState.save_property": "property.created",
    "PropertiesState.archive_property": "property.archived",
    "PropertiesState.add_unit": "unit.created",
    "PropertiesState.save_rename": "unit.renamed",
    "PropertiesState.archive_unit": "unit.archived",
    "PropertiesState.save_service": "service.created",
    "PropertiesState.remove_service": "service.removed",
    "PropertiesState.save_entry": "service.logged",
    "OperatorState.create_tenant": "tenant.created",
    "OperatorState.save_plan": "tenant.plan_changed",
    "OperatorState.set_suspended": "tenant.suspended",
}

# Reads, form state and session handling: nothing stored changes.
READS = {
    "AdminState": {
        "load_admin",
        "set_approval_flag",
        "set_purchase_threshold",
        "set_approver_role",
        "set_token_budget",
        "set_model",
        "set_external_memory",
        "set_currency",
    },
    "PeopleState": {
        "load_people",
        "search",
        "set_role_filter",
        "set_sort",
        "go_page",
        "open_edit",
        "close_edit",
        "set_edit_role",
        "toggle_edit_team",
        "set_edit_property",
        "set_edit_unit",
        "search_staff",
        "staff_go_page",
        "new_team",
        "edit_team",
        "close_team",
        "set_team_name",
        "toggle_member",
        "set_team_lead",
    },
    "MemoryState": {
        "load_memory",
        "set_filter",
        "go_page",
        "set_new",
        "open_edit",
        "close_edit",
        "set_edit_text",
    },
    "PropertiesState": {
        "load_properties",
        "search",
        "set_show_archived",
        "go_page",
        "open_property",
        "close_property",
        "log_go",
        "new_property",
        "edit_property",
        "close_prop",
        "set_prop",
        "set_new_unit",
        "open_rename",
        "close_rename",
        "set_rename_label",
        "new_service",
        "edit_service",
        "close_service",
        "set_svc",
        "new_entry",
        "close_entry",
        "set_entry",
    },
    "IntegrationsState": {"load_keys", "set_new_name", "dismiss_secret"},
    "ApprovalsState": {"load_approvals"},
    "ManagerState": {"load_manager"},
    "AuditState": {
        "load_audit",
        "set_filter",
        "clear_filters",
        "go_page",
        "export_csv",
    },
    "ChainState": {"load_chain", "toggle_prompt"},
    "UsageState": {"load_usage"},
    "OperatorState": {
        "operator_login",
        "operator_logout",
        "load_tenants",
        "open_plan",
        "close_plan",
        "set_plan_budget",
        "set_plan_seats",
    },
}


def _console_states() -> list[Any]:
    new_tab()
    states = [c for c in _page_states() if c not in APP_STATES]
    return [*states, OperatorState]


def test_every_console_handler_is_classified() -> None:
    found = {
        f"{cls.__name__}.{name}"
        for cls in _console_states()
        for name in cls.event_handlers
        if name != "setvar" and name in cls.__dict__
    }
    known = set(WRITES) | {f"{c}.{n}" for c, names in READS.items() for n in names}
    assert found - known == set(), "classify these console handlers (write or read)"
    assert known - found == set(), "these handlers no longer exist"


async def _events(tenant_id: uuid.UUID) -> dict[Any, tuple[str, str]]:
    async with tenant_session(tenant_id) as s:
        rows = (await s.exec(select(AuditEvent))).all()
    return {e.id: (e.kind, e.actor) for e in rows}


async def test_every_console_write_is_in_the_audit_log(
    demo: Demo,
    operator: str,  # noqa: F811
) -> None:
    done: set[str] = set()
    op_tab = new_tab()
    op = await op_tab.get_state(OperatorState)
    await call(op, "operator_login", {"email": operator, "password": OP_PASSWORD})
    slug = f"audit-{uuid.uuid4().hex[:6]}"
    email, password = f"admin@{slug}.example", "audit-admin-password"
    form = {
        "slug": slug,
        "name": "Audit Walk",
        "admin_name": "Walk Admin",
        "admin_email": email,
        "admin_password": password,
    }
    await call(op, "create_tenant", form)
    [row] = [t for t in op.tenants if t["slug"] == slug]
    tid = uuid.UUID(row["id"])
    seen: set[Any] = set()

    async def expect(handler: str, *kinds: str, by: str) -> None:
        """The rows this handler added (since the last check) hold these kinds."""
        events = await _events(tid)
        got = [v for k, v in events.items() if k not in seen]
        seen.update(events)
        for kind in kinds or (WRITES[handler],):
            assert (kind, by) in got, f"{handler}: {kind} by {by} not in {got}"
        done.add(handler)

    async with platform_session() as ps:
        op_id = (
            await ps.exec(select(Operator.id).where(Operator.email == operator))
        ).one()
    by_operator = f"operator:{op_id}"
    await expect(
        "OperatorState.create_tenant",
        "tenant.created",
        "user.created",
        by=by_operator,
    )

    tab = new_tab()
    session = await tab.get_state(SessionState)
    await call(session, "login", {"org": slug, "email": email, "password": password})
    assert session.role == "admin", session.login_error
    async with tenant_session(tid) as s:
        admin = (await s.exec(select(User))).one()
    by_admin = f"user:{admin.id}"

    admin_state = await tab.get_state(AdminState)
    await call(admin_state, "load_admin")
    await call(admin_state, "set_external_memory", False)
    assert "saved" in toast(await call(admin_state, "save_settings"))
    await expect("AdminState.save_settings", by=by_admin)

    user_form = {
        "email": f"walk@{slug}.example",
        "name": "Walk Employee",
        "role": "employee",
        "password": "walk-employee-pw",
    }
    await call(admin_state, "create_user", user_form)
    assert admin_state.create_error == ""
    await expect("AdminState.create_user", by=by_admin)
    async with tenant_session(tid) as s:
        walker = (await s.exec(select(User).where(User.handle == "walk"))).one()

    people = await tab.get_state(PeopleState)
    await call(people, "load_people")
    await call(people, "new_team")
    await call(people, "set_team_name", "Walkers")
    await call(people, "search_staff", "Walk Employee")
    await call(people, "toggle_member", str(walker.id), True)
    assert "Saved team" in toast(await call(people, "save_team"))
    await expect("PeopleState.save_team", by=by_admin)
    await call(people, "search", "Walk Employee")
    await call(people, "open_edit", str(walker.id))
    await call(people, "set_edit_role", "manager")
    assert "Saved" in toast(await call(people, "save_person"))
    await expect("PeopleState.save_person", by=by_admin)

    memory = await tab.get_state(MemoryState)
    await call(memory, "load_memory")
    await call(memory, "set_new", "scope", "tenant")
    await call(memory, "set_new", "text", "The walk starts at the north gate.")
    assert "Remembered" in toast(await call(memory, "add"))
    await expect("MemoryState.add", by=by_admin)
    [mem] = memory.memories
    await call(memory, "open_edit", mem["id"])
    await call(memory, "set_edit_text", "The walk starts at the south gate.")
    await call(memory, "save_edit")
    await expect("MemoryState.save_edit", by=by_admin)
    await call(memory, "forget", mem["id"])
    await expect("MemoryState.forget", by=by_admin)

    places = await tab.get_state(PropertiesState)
    await call(places, "load_properties")
    await call(places, "new_property")
    await call(places, "set_prop", "name", "Walk House")
    assert "Saved" in toast(await call(places, "save_property"))
    await expect("PropertiesState.save_property", by=by_admin)
    await call(places, "set_new_unit", "1")
    await call(places, "add_unit")
    await expect("PropertiesState.add_unit", by=by_admin)
    await call(places, "open_rename", places.units[0]["id"])
    await call(places, "set_rename_label", "1A")
    await call(places, "save_rename")
    await expect("PropertiesState.save_rename", by=by_admin)
    await call(places, "archive_unit", places.units[0]["id"], True)
    await expect("PropertiesState.archive_unit", by=by_admin)
    await call(places, "new_service")
    await call(places, "set_svc", "name", "Sweeping")
    await call(places, "save_service")
    await expect("PropertiesState.save_service", by=by_admin)
    await call(places, "new_entry")
    await call(places, "set_entry", "note", "North path swept")
    assert "Logged Sweeping" in toast(await call(places, "save_entry"))
    await expect("PropertiesState.save_entry", by=by_admin)
    assert [e["note"] for e in places.log] == ["North path swept"]
    await call(places, "remove_service", places.services[0]["id"])
    await expect("PropertiesState.remove_service", by=by_admin)
    await call(places, "archive_property", True)
    await expect("PropertiesState.archive_property", by=by_admin)

    keys = await tab.get_state(IntegrationsState)
    await call(keys, "load_keys")
    await call(keys, "set_new_name", "Walk sensor")
    await call(keys, "create_key")
    await expect("IntegrationsState.create_key", by=by_admin)
    await call(keys, "revoke_key", keys.keys[0]["id"])
    await expect("IntegrationsState.revoke_key", by=by_admin)

    # A pending approval asked for by the employee, rejected from the console.
    async with tenant_session(tid) as s:
        _, approval = await pending_approval(
            s,
            tid,
            walker.id,
            "walk-1",
            "buy a lantern",
            "Buy a lantern",
            timedelta(hours=1),
        )
    approvals = await tab.get_state(ApprovalsState)
    assert "Rejected" in toast(await call(approvals, "decide", str(approval.id), False))
    await expect("ApprovalsState.decide", by=by_admin)

    await call(admin_state, "set_disabled", str(walker.id), True)
    await expect("AdminState.set_disabled", by=by_admin)

    await call(op, "open_plan", str(tid))
    await call(op, "set_plan_seats", "10")
    assert "Saved the plan" in toast(await call(op, "save_plan"))
    await expect("OperatorState.save_plan", by=by_operator)
    await call(op, "set_suspended", str(tid), True)
    await expect("OperatorState.set_suspended", by=by_operator)

    assert done == set(WRITES), set(WRITES) - done
