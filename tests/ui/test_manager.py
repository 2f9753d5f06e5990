"""The console for managers: their approvals and their teams (read-only), checked
on the server; employees get nothing and no toast; other tenants stay apart."""

from __future__ import annotations

import pytest

from app.domain.errors import Forbidden
from app.services import people
from state.admin import AdminState
from state.approvals import ApprovalsState
from state.manager import ManagerState
from state.people import PeopleState
from tests.conftest import Demo
from tests.console.test_people import actor_of
from tests.ui.conftest import call, new_tab, other_tenant_rows, sign_in, toast

pytestmark = pytest.mark.isolation


async def test_a_manager_sees_their_teams_and_approvals(
    demo: Demo, clean_db: None
) -> None:
    mine = await other_tenant_rows(demo, "maple-court", "ben")
    theirs = await other_tenant_rows(demo, "harbor-bistro", "luis")
    tab = new_tab()
    await sign_in(tab, "maple-court", "dana")
    manager = await tab.get_state(ManagerState)
    assert await call(manager, "load_manager") is None
    assert [t["name"] for t in manager.my_teams] == ["Management"]
    assert [m[1:] for m in manager.my_members] == [["Dana Whitfield", "manager", ""]]
    approvals = await tab.get_state(ApprovalsState)
    assert [a["id"] for a in approvals.approvals] == [str(mine["approval"].id)]

    # Deciding from the console (these rows carry a made-up payload hash, so a
    # rejection: the e2e test approves a real one); another organisation's
    # approval is not found.
    refused = await call(approvals, "decide", str(theirs["approval"].id), False)
    assert "No such" in toast(refused) or "not found" in toast(refused).lower()
    assert "Rejected" in toast(
        await call(approvals, "decide", str(mine["approval"].id), False)
    )
    assert approvals.approvals == []


async def test_a_manager_changes_nothing_only_admins_may(
    demo: Demo, clean_db: None
) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "dana")
    admin_state = await tab.get_state(AdminState)
    people_state = await tab.get_state(PeopleState)
    assert await call(admin_state, "load_admin") is None  # quiet: the page decides
    assert await call(people_state, "load_people") is None
    assert people_state.people == [] and people_state.teams == []
    form = {
        "email": "x@maple-court.example",
        "name": "X",
        "role": "admin",
        "password": "manager-made-this",
    }
    for state, name, args in (
        (admin_state, "create_user", (form,)),
        (admin_state, "set_disabled", (str(demo.user("maple-court", "omar").id), True)),
        (admin_state, "save_settings", ()),
        (people_state, "new_team", ()),
        (people_state, "save_team", ()),
        (people_state, "search_staff", ("a",)),
        (people_state, "toggle_member", ("x", True)),
        (people_state, "save_person", ()),
    ):
        assert "not allowed" in toast(await call(state, name, *args)), name
    assert people_state.staff == []


async def test_employees_get_no_manager_view(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "maple-court", "omar")
    manager = await tab.get_state(ManagerState)
    assert await call(manager, "load_manager") is None  # no toast: the page says
    assert manager.my_teams == [] and manager.my_members == []
    with pytest.raises(Forbidden):
        await people.my_teams(actor_of(demo.user("maple-court", "omar")))


async def test_my_teams_stay_in_the_callers_tenant(demo: Demo) -> None:
    maya = await people.my_teams(actor_of(demo.user("harbor-bistro", "maya")))
    # Both organisations have a Management team: hers is Harbor Bistro's.
    assert {t.id for t in maya} == {demo.team("harbor-bistro", "management").id}
    dana = await people.my_teams(actor_of(demo.user("maple-court", "dana")))
    assert {t.id for t in dana} == {demo.team("maple-court", "management").id}
    admin = await people.my_teams(actor_of(demo.user("riverside-lofts", "admin")))
    assert all(t.id != demo.team("maple-court", "maintenance").id for t in admin)
