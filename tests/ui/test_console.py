"""The console's audit pages through the real handlers: the chain page reads its
ref from the URL, the prompt loads only on the toggle, other tenants' chains are
not found, and the audit log filters, pages and exports."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from reflex.istate.data import ReflexURL, RouterData

from app.core.db import tenant_session
from app.domain.models import AssistantRun, TeamMember, User
from state.audit import AuditState, ChainState
from state.integrations import IntegrationsState
from state.memory import MemoryState
from state.people import PeopleState
from state.usage import UsageState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, other_tenant_rows, sign_in, toast


@pytest.fixture
async def chain(demo: Demo, clean_db: None) -> dict[str, Any]:
    rows = await other_tenant_rows(demo, "riverside-lofts", "rita")
    async with tenant_session(rows["tenant_id"]) as s:
        s.add(
            AssistantRun(
                tenant_id=rows["tenant_id"],
                message_id=rows["message"].id,
                model="switchboard/offline",
                prompt=[
                    {"role": "system", "content": "<context>secret</context>"},
                    {"role": "user", "content": "buy a new fridge"},
                ],
                memories_withheld=True,
            )
        )
    return rows


async def _open(tab: Any, ref: str) -> tuple[ChainState, Any]:
    tab.router = RouterData(url=ReflexURL(f"http://localhost/admin/chain?ref={ref}"))
    state = await tab.get_state(ChainState)
    return state, await call(state, "load_chain")


@pytest.mark.isolation
async def test_admin_opens_a_chain_from_the_url_and_toggles_the_prompt(
    demo: Demo, chain: dict[str, Any]
) -> None:
    tab = new_tab()
    await sign_in(tab, "riverside-lofts", "admin")
    state, result = await _open(tab, f"approval:{chain['approval'].id}")
    assert result is None and state.found
    assert state.message["sender"] == "Rita Alvarez"
    assert state.message["withheld"] == "yes"
    [action] = state.actions
    assert action["approval"] == "pending" and '"{}"' not in action["payload"]
    assert state.prompt == [] and not state.show_prompt  # not sent until asked
    await call(state, "toggle_prompt")
    assert state.show_prompt and "<context>" in state.prompt[0]["content"]
    await call(state, "toggle_prompt")
    assert state.prompt == []

    other = new_tab()
    await sign_in(other, "maple-court", "admin")
    theirs, result = await _open(other, f"message:{chain['message'].id}")
    assert "No such message" in toast(result)
    assert not theirs.found and theirs.message == {}
    assert "No such message" in toast(await call(theirs, "toggle_prompt"))
    assert theirs.prompt == []


async def test_audit_tab_filters_and_exports(demo: Demo, chain: dict[str, Any]) -> None:
    tab = new_tab()
    await sign_in(tab, "riverside-lofts", "admin")
    audit = await tab.get_state(AuditState)
    await call(audit, "load_audit")
    [msg] = audit.messages
    assert msg["sender"] == "Rita Alvarez" and msg["href"].endswith(
        f"ref=message:{chain['message'].id}"
    )
    assert any(p[1] == "Rita Alvarez" for p in audit.people)
    await call(audit, "set_filter", "verdict", "deny")
    assert audit.f_verdict == "deny" and audit.total == 0
    await call(audit, "set_filter", "verdict", "<script>")
    assert audit.f_verdict == "any"
    assert "Not found." in toast(await call(audit, "set_filter", "user", "nope"))
    await call(audit, "set_filter", "from", "not a date")
    assert audit.f_from == ""
    result = await call(audit, "export_csv")
    assert "audit.csv" in str(result.args)


@pytest.fixture
async def zed(demo: Demo) -> AsyncIterator[User]:
    """A throwaway Maple Court employee on Maintenance (demo people stay as
    seeded)."""
    tid = demo.tenant("maple-court").id
    tag = uuid.uuid4().hex[:8]
    user = User(
        tenant_id=tid,
        handle=f"zed-{tag}",
        email=f"zed-{tag}@maple-court.example",
        name=f"Zed {tag}",
        role="employee",
        password_hash="x",
    )
    async with tenant_session(tid) as s:
        s.add(user)
        await s.flush()
        team = demo.team("maple-court", "maintenance")
        s.add(TeamMember(tenant_id=tid, team_id=team.id, user_id=user.id))
    yield user
    async with tenant_session(tid) as s:
        await s.delete(await s.get(User, (tid, user.id)))


async def test_people_dialog_and_team_form(
    demo: Demo, clean_db: None, zed: User
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    people = await tab.get_state(PeopleState)
    await call(people, "load_people")
    await call(people, "search", zed.name)
    [row] = people.people
    assert row["teams"] == "Maintenance"
    await call(people, "open_edit", row["id"])
    assert people.edit_open and people.edit_role == "employee"
    assert len(people.edit_teams) == 1
    await call(people, "set_edit_role", "resident")  # still on Maintenance
    await call(people, "set_edit_property", people.places[0][0])
    assert people.edit_units and all(
        u[2] == people.places[0][0] for u in people.edit_units
    )
    await call(people, "set_edit_unit", people.edit_units[0][0])
    # Saved as a resident: off the staff team, living at the property.
    assert "Saved" in toast(await call(people, "save_person")).replace("\\", "")
    [row] = people.people
    assert (row["role"], row["teams"]) == ("resident", "")
    assert row["home"] == f"{people.places[0][1]} {people.edit_units[0][1]}"
    await call(people, "open_edit", row["id"])
    await call(people, "set_edit_role", "employee")
    maintenance = str(demo.team("maple-court", "maintenance").id)
    await call(people, "toggle_edit_team", maintenance, True)
    await call(people, "save_person")
    [row] = people.people
    assert (row["role"], row["teams"], row["home"]) == ("employee", "Maintenance", "")

    await call(people, "search", "Maple Admin")
    [admin] = people.people
    await call(people, "open_edit", admin["id"])
    await call(people, "set_edit_role", "manager")
    assert await call(people, "save_person") is None
    assert "at least one admin" in people.edit_error and people.edit_open

    await call(people, "new_team")
    assert people.team_open and all(p[1] != "Ben Carter" for p in people.staff)
    await call(people, "set_team_name", "Maintenance")
    assert await call(people, "save_team") is None
    assert "already exists" in people.team_error

    # The member picker: search, pick, and the pick survives a new search.
    await call(people, "search_staff", zed.name)
    [found] = people.staff
    assert found[1] == zed.name and people.staff_total == 1
    await call(people, "toggle_member", found[0], True)
    await call(people, "search_staff", "Omar")
    assert zed.name not in str(people.staff)
    assert people.team_picked == [[found[0], zed.name]]
    await call(people, "toggle_member", "not-offered", True)  # never on a page
    assert people.team_members == [found[0]]
    await call(people, "set_team_lead", found[0])
    await call(people, "set_team_name", f"Picker {zed.name}")
    assert "Saved team" in toast(await call(people, "save_team"))
    [team] = [t for t in people.teams if t["name"] == f"Picker {zed.name}"]
    assert (team["members"], team["lead"]) == (zed.name, zed.name)
    await call(people, "edit_team", team["id"])
    assert people.team_picked == [[found[0], zed.name]]
    await call(people, "toggle_member", found[0], False)
    assert people.team_picked == [] and people.team_lead == "none"
    async with tenant_session(zed.tenant_id) as s:  # demo teams stay as seeded
        from app.domain.models import Team

        await s.delete(await s.get(Team, (zed.tenant_id, uuid.UUID(team["id"]))))


async def test_people_handlers_refuse_employees(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "omar")
    people = await tab.get_state(PeopleState)
    for name, args in (
        ("search", ("a",)),
        ("open_edit", ("x",)),
        ("save_person", ()),
        ("new_team", ()),
        ("save_team", ()),
    ):
        assert "not allowed" in toast(await call(people, name, *args)), name
    assert people.people == [] and people.staff == []


async def test_memory_tab_adds_edits_and_forgets(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    memory = await tab.get_state(MemoryState)
    await call(memory, "load_memory")
    assert memory.total >= 4 and memory.team_choices
    word = f"okapi{uuid.uuid4().hex[:6]}"
    await call(memory, "set_new", "scope", "team")
    await call(memory, "set_new", "team", memory.team_choices[0][0])
    await call(memory, "set_new", "text", f"The {word} van is parked at the back.")
    assert "Remembered" in toast(await call(memory, "add"))
    await call(memory, "set_filter", "query", word)
    [row] = memory.memories
    assert row["scope"] == "Team" and row["about"] == memory.team_choices[0][1]
    await call(memory, "open_edit", row["id"])
    await call(memory, "set_edit_text", "")
    assert await call(memory, "save_edit") is None and memory.edit_error
    await call(memory, "set_edit_text", f"The {word} van is in the garage.")
    await call(memory, "save_edit")
    assert "garage" in memory.memories[0]["text"]
    await call(memory, "forget", row["id"])
    assert memory.memories == [] and memory.total == 0
    assert "No such memory" in toast(await call(memory, "forget", row["id"]))


async def test_memory_handlers_refuse_other_roles(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "dana")  # a manager
    memory = await tab.get_state(MemoryState)
    assert await call(memory, "load_memory") is None  # the page says why
    assert memory.memories == []
    for name, args in (("add", ()), ("forget", ("x",)), ("open_edit", ("x",))):
        assert "not allowed" in toast(await call(memory, name, *args)), name


async def test_settings_carry_the_model_and_the_data_policy(
    demo: Demo, clean_db: None
) -> None:
    from app.services.tenant_settings import get_settings_for
    from state.admin import AdminState

    tab = new_tab()
    await sign_in(tab, "riverside-lofts", "admin")
    admin = await tab.get_state(AdminState)
    await call(admin, "load_admin")
    assert admin.model == "" and admin.external_memory is True
    who = demo.user("riverside-lofts", "admin")
    try:
        await call(admin, "set_model", "openai/gpt-4o-mini")
        await call(admin, "set_external_memory", False)
        assert "Settings saved" in toast(await call(admin, "save_settings"))
        from app.domain.actor import Actor

        view = await get_settings_for(Actor(who.tenant_id, who.id, who.role))
        assert (view.model, view.external_memory) == ("openai/gpt-4o-mini", False)
        await call(admin, "set_model", "not a model!")
        assert await call(admin, "save_settings") is None
        assert "litellm model" in admin.settings_error
    finally:
        await call(admin, "set_model", "")
        await call(admin, "set_external_memory", True)
        await call(admin, "save_settings")


async def test_usage_tab_loads_for_admins_only(demo: Demo, clean_db: None) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    usage = await tab.get_state(UsageState)
    await call(usage, "load_usage")
    assert len(usage.days) == 30 and usage.budget > 0 and usage.month
    other = new_tab()
    await sign_in(other, "maple-court", "dana")
    theirs = await other.get_state(UsageState)
    assert await call(theirs, "load_usage") is None and theirs.days == []


async def test_api_keys_shown_once_listed_and_revoked(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "admin")
    keys = await tab.get_state(IntegrationsState)
    await call(keys, "load_keys")
    await call(keys, "set_new_name", "")
    await call(keys, "create_key")
    assert keys.key_error and keys.created_secret == ""
    await call(keys, "set_new_name", "Door sensors")
    await call(keys, "create_key")
    secret = keys.created_secret
    assert secret.startswith("sbk_") and keys.key_error == ""
    [row] = [k for k in keys.keys if k["name"] == "Door sensors"]
    assert row["last_used"] == "never" and secret not in str(keys.keys)
    await call(keys, "load_keys")  # shown once: gone on the next load
    assert keys.created_secret == ""
    assert "Revoked" in toast(await call(keys, "revoke_key", row["id"]))
    [row] = [k for k in keys.keys if k["name"] == "Door sensors"]
    assert row["state"] == "revoked"

    other = new_tab()
    await sign_in(other, "riverside-lofts", "admin")
    theirs = await other.get_state(IntegrationsState)
    assert "Not found" in toast(await call(theirs, "revoke_key", row["id"]))
    employee = new_tab()
    await sign_in(employee, "maple-court", "omar")
    refused = await employee.get_state(IntegrationsState)
    assert "not allowed" in toast(await call(refused, "create_key"))
