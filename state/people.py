"""People and teams in the console: one page of users at a time (search, role
filter, sort), the edit dialog (role, teams, residence) and the team form.
Admins only: every handler checks; the guards themselves are in
app/services/people.py."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.errors import DomainError
from app.domain.roles import ADMIN_ROLES, ROLES
from app.services import people
from state.format import parse_id
from state.session import SessionState, guarded

ANY = "any"
SORT_LABELS = {"name": "Name", "email": "Email", "role": "Role", "created": "Newest"}
NONE = "none"  # the select value for "no property / no unit / no lead"


def _row(p: people.Person) -> dict[str, str]:
    where = " ".join(x for x in (p.property, p.unit) if x)
    return {
        "id": str(p.id),
        "name": p.name,
        "email": p.email,
        "role": p.role,
        "teams": ", ".join(p.teams),
        "home": where,
        "state": "disabled" if p.disabled else "active",
    }


class PeopleState(SessionState):
    people: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    query: str = ""
    f_role: str = ANY
    sort: str = "name"
    # Teams: display rows, and every team as [id, name] for the edit dialog.
    teams: list[dict[str, str]] = []
    team_choices: list[list[str]] = []
    # Properties as [id, name]; units as [id, label, property id].
    places: list[list[str]] = []
    units: list[list[str]] = []
    # The person being edited.
    edit_open: bool = False
    edit_id: str = ""
    edit_name: str = ""
    edit_role: str = ""
    edit_teams: list[str] = []
    edit_property: str = NONE
    edit_unit: str = NONE
    edit_error: str = ""
    # The team being created (team_id "") or edited.
    team_open: bool = False
    team_id: str = ""
    team_name: str = ""
    team_members: list[str] = []
    # [id, name] of the members chosen so far (they may be on no page of the
    # picker's current search).
    team_picked: list[list[str]] = []
    team_lead: str = NONE
    team_error: str = ""
    # The member picker: one page of matching staff as [id, name, email].
    staff: list[list[str]] = []
    staff_query: str = ""
    staff_page: int = 1
    staff_pages: int = 1
    staff_total: int = 0

    @rx.var
    def edit_units(self) -> list[list[str]]:
        return [u for u in self.units if u[2] == self.edit_property]

    async def _load(self, actor: Actor) -> None:
        found = await people.search_people(
            actor,
            query=self.query,
            role="" if self.f_role == ANY else self.f_role,
            sort=self.sort,
            page=self.page,
        )
        self.total, self.page, self.pages = found.total, found.page, found.pages
        self.people = [_row(p) for p in found.people]

    async def _load_teams(self, actor: Actor) -> None:
        views = await people.list_teams(actor)
        self.team_choices = [[str(t.id), t.name] for t in views]
        self.teams = [
            {
                "id": str(t.id),
                "name": t.name,
                "members": ", ".join(n for _, n in t.members),
                "lead": next((n for i, n in t.members if i == t.lead), ""),
            }
            for t in views
        ]

    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_people(self, actor: Actor) -> None:
        await self._load(actor)
        await self._load_teams(actor)
        places = await people.list_places(actor)
        self.places = [[str(p.id), p.name] for p in places]
        self.units = [
            [str(u), label, str(p.id)] for p in places for u, label in p.units
        ]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def search(self, actor: Actor, value: str) -> None:
        self.query, self.page = str(value)[:100], 1
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_role_filter(self, actor: Actor, value: str) -> None:
        self.f_role = value if value in ROLES else ANY
        self.page = 1
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_sort(self, actor: Actor, value: str) -> None:
        self.sort = value if value in SORT_LABELS else "name"
        self.page = 1
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def go_page(self, actor: Actor, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._load(actor)

    # ------------------------------------------------------------ edit dialog

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def open_edit(self, actor: Actor, user_id: str) -> None:
        row = next((p for p in self.people if p["id"] == user_id), None)
        if row is None:
            return
        uid = parse_id(user_id)
        person = (await people.people_by_id(actor, [uid]))[0]
        self.edit_id, self.edit_name, self.edit_role = user_id, row["name"], row["role"]
        self.edit_teams = [str(t) for t in person.team_ids]
        self.edit_property = str(person.property_id or NONE)
        self.edit_unit = str(person.unit_id or NONE)
        self.edit_error, self.edit_open = "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def close_edit(self, actor: Actor) -> None:
        self.edit_open = False

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_edit_role(self, actor: Actor, value: str) -> None:
        self.edit_role = value if value in ROLES else self.edit_role

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def toggle_edit_team(self, actor: Actor, team_id: str, on: bool) -> None:
        rest = [t for t in self.edit_teams if t != team_id]
        self.edit_teams = [*rest, team_id] if on else rest

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_edit_property(self, actor: Actor, value: str) -> None:
        self.edit_property, self.edit_unit = str(value)[:40], NONE

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_edit_unit(self, actor: Actor, value: str) -> None:
        self.edit_unit = str(value)[:40]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_person(self, actor: Actor) -> Any:
        """Role, teams and residence in one change (guards: services.people)."""
        try:
            await people.update_person(
                actor,
                parse_id(self.edit_id),
                role=self.edit_role,
                team_ids=[parse_id(t) for t in self.edit_teams],
                property_id=None
                if self.edit_property == NONE
                else parse_id(self.edit_property),
                unit_id=None if self.edit_unit == NONE else parse_id(self.edit_unit),
            )
        except DomainError as exc:
            self.edit_error = exc.message
            return None
        self.edit_open = False
        await self._load(actor)
        await self._load_teams(actor)
        return rx.toast.success(f"Saved {self.edit_name}.")

    # ------------------------------------------------------------ team form

    async def _load_staff(self, actor: Actor) -> None:
        found = await people.staff_page(
            actor, query=self.staff_query, page=self.staff_page
        )
        self.staff = [[str(i), n, e] for i, n, e in found.choices]
        self.staff_total, self.staff_page = found.total, found.page
        self.staff_pages = found.pages

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def search_staff(self, actor: Actor, value: str) -> None:
        self.staff_query, self.staff_page = str(value)[:100], 1
        await self._load_staff(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def staff_go_page(self, actor: Actor, delta: int) -> None:
        self.staff_page = max(1, min(self.staff_pages, self.staff_page + int(delta)))
        await self._load_staff(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def new_team(self, actor: Actor) -> None:
        self.staff_query, self.staff_page = "", 1
        await self._load_staff(actor)
        self.team_id, self.team_name, self.team_members = "", "", []
        self.team_picked = []
        self.team_lead, self.team_error, self.team_open = NONE, "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def edit_team(self, actor: Actor, team_id: str) -> None:
        view = next(
            (t for t in await people.list_teams(actor) if str(t.id) == team_id), None
        )
        if view is None:
            return
        self.staff_query, self.staff_page = "", 1
        await self._load_staff(actor)
        self.team_id, self.team_name = team_id, view.name
        self.team_members = [str(i) for i, _ in view.members]
        self.team_picked = [[str(i), n] for i, n in view.members]
        self.team_lead = str(view.lead) if view.lead else NONE
        self.team_error, self.team_open = "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def close_team(self, actor: Actor) -> None:
        self.team_open = False

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_team_name(self, actor: Actor, value: str) -> None:
        self.team_name = str(value)[:200]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def toggle_member(self, actor: Actor, user_id: str, on: bool) -> None:
        """Pick or drop a member: one from the picker's page or the chosen list
        (the server checks every id again when the team is saved)."""
        known = {p[0]: p[1] for p in [*self.team_picked, *self.staff]}
        if on and user_id not in known:
            return
        rest = [m for m in self.team_members if m != user_id]
        self.team_members = [*rest, user_id] if on else rest
        picked = [p for p in self.team_picked if p[0] != user_id]
        self.team_picked = [*picked, [user_id, known[user_id]]] if on else picked
        if not on and self.team_lead == user_id:
            self.team_lead = NONE

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_team_lead(self, actor: Actor, value: str) -> None:
        self.team_lead = str(value)[:40]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_team(self, actor: Actor) -> Any:
        try:
            await people.save_team(
                actor,
                team_id=parse_id(self.team_id) if self.team_id else None,
                name=self.team_name,
                member_ids=[parse_id(m) for m in self.team_members],
                lead_id=None if self.team_lead == NONE else parse_id(self.team_lead),
            )
        except DomainError as exc:
            self.team_error = exc.message
            return None
        self.team_open = False
        await self._load_teams(actor)
        await self._load(actor)
        return rx.toast.success(f"Saved team {self.team_name}.")
