"""The console's people table (search, filter, sort, pages), the person dialog
(role, teams, residence) and the teams list with its form."""

from __future__ import annotations

import reflex as rx

from app.domain.roles import ROLES
from components.dialogs import form_dialog
from components.fields import TARGET, check, choice, labelled, options, var_options
from state.admin import AdminState
from state.people import ANY, NONE, SORT_LABELS, PeopleState


def people_filters() -> rx.Component:
    return rx.grid(
        labelled(
            "Search name or email",
            "p-search",
            rx.debounce_input(
                rx.input(
                    id="p-search",
                    type="search",
                    value=PeopleState.query,
                    on_change=PeopleState.search,
                    min_height=TARGET,
                    width="100%",
                ),
                debounce_timeout=300,
            ),
        ),
        labelled(
            "Role",
            "p-role",
            choice(
                "p-role",
                PeopleState.f_role,
                PeopleState.set_role_filter,
                *options([(ANY, "Any role")] + [(r, r) for r in ROLES]),
            ),
        ),
        labelled(
            "Sort by",
            "p-sort",
            choice(
                "p-sort",
                PeopleState.sort,
                PeopleState.set_sort,
                *options(SORT_LABELS.items()),
            ),
        ),
        columns=rx.breakpoints(initial="1", sm="3"),
        spacing="2",
        width="100%",
    )


def person_row(u: rx.Var) -> rx.Component:
    active = u["state"] == "active"
    return rx.table.row(
        rx.table.cell(u["name"]),
        rx.table.cell(u["email"]),
        rx.table.cell(u["role"]),
        rx.table.cell(u["teams"]),
        rx.table.cell(u["home"]),
        rx.table.cell(
            rx.badge(
                u["state"],
                color_scheme=rx.cond(active, "green", "gray"),
                high_contrast=True,
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Edit",
                    size="2",
                    variant="soft",
                    on_click=PeopleState.open_edit(u["id"]),
                    min_height=TARGET,
                    aria_label="Edit " + u["name"].to(str),
                ),
                rx.button(
                    rx.cond(active, "Disable", "Enable"),
                    size="2",
                    variant="soft",
                    color_scheme=rx.cond(active, "red", "green"),
                    # Soft green text is 4.28:1 on its tint (axe wants 4.5).
                    high_contrast=True,
                    on_click=AdminState.set_disabled(u["id"], active),
                    min_height=TARGET,
                ),
                spacing="2",
            )
        ),
        class_name="user-row",
    )


def people_table() -> rx.Component:
    headers = ["Name", "Email", "Role", "Teams", "Lives at", "State", ""]
    return rx.vstack(
        people_filters(),
        rx.text(PeopleState.total, " people", size="2", color_scheme="gray"),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in headers])
                ),
                rx.table.body(rx.foreach(PeopleState.people, person_row)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                disabled=PeopleState.page <= 1,
                on_click=PeopleState.go_page(-1),
                min_height=TARGET,
            ),
            rx.text("Page ", PeopleState.page, " of ", PeopleState.pages, size="2"),
            rx.button(
                "Next",
                variant="soft",
                disabled=PeopleState.page >= PeopleState.pages,
                on_click=PeopleState.go_page(1),
                min_height=TARGET,
            ),
            align="center",
            spacing="3",
        ),
        person_dialog(),
        spacing="3",
        width="100%",
    )


def person_dialog() -> rx.Component:
    return form_dialog(
        PeopleState.edit_name,
        PeopleState.edit_error,
        labelled(
            "Role",
            "e-role",
            choice(
                "e-role",
                PeopleState.edit_role,
                PeopleState.set_edit_role,
                *options([(r, r) for r in ROLES]),
            ),
        ),
        rx.cond(
            PeopleState.edit_role == "resident",
            rx.vstack(
                labelled(
                    "Property",
                    "e-property",
                    choice(
                        "e-property",
                        PeopleState.edit_property,
                        PeopleState.set_edit_property,
                        rx.select.item("None", value=NONE),
                        var_options(PeopleState.places),
                    ),
                ),
                labelled(
                    "Unit",
                    "e-unit",
                    choice(
                        "e-unit",
                        PeopleState.edit_unit,
                        PeopleState.set_edit_unit,
                        rx.select.item("None", value=NONE),
                        var_options(PeopleState.edit_units),
                    ),
                ),
                rx.text(
                    "Residents are not on staff teams.",
                    size="1",
                    color_scheme="gray",
                ),
                width="100%",
            ),
            rx.vstack(
                rx.text("Teams", size="2", weight="medium"),
                rx.foreach(
                    PeopleState.team_choices,
                    lambda t: check(
                        t[1],
                        checked=PeopleState.edit_teams.contains(t[0]),
                        on_change=lambda v: PeopleState.toggle_edit_team(t[0], v),
                        size="3",
                    ),
                ),
                width="100%",
            ),
        ),
        on_cancel=PeopleState.close_edit,
        save_label="Save",
        on_save=PeopleState.save_person,
        open=PeopleState.edit_open,
    )


# ------------------------------------------------------------------ teams


def team_row(t: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(t["name"]),
        rx.table.cell(t["lead"]),
        rx.table.cell(t["members"]),
        rx.table.cell(
            rx.button(
                "Edit",
                size="2",
                variant="soft",
                on_click=PeopleState.edit_team(t["id"]),
                min_height=TARGET,
                aria_label="Edit team " + t["name"].to(str),
            )
        ),
        class_name="team-row",
    )


def teams_section() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Teams", size="4", as_="h2"),
            rx.spacer(),
            rx.button("New team", on_click=PeopleState.new_team, min_height=TARGET),
            width="100%",
            align="center",
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Team", "Lead", "Members", "")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(PeopleState.teams, team_row)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        team_dialog(),
        spacing="3",
        width="100%",
    )


def _member_box(person: rx.Var, label: rx.Var) -> rx.Component:
    return check(
        label,
        checked=PeopleState.team_members.contains(person[0]),
        on_change=lambda v: PeopleState.toggle_member(person[0], v),
        size="3",
    )


def member_picker() -> rx.Component:
    """The chosen members, then a search over all active staff, one page at a
    time (a tenant of any size: nothing is cut off)."""
    return rx.vstack(
        rx.text(
            "Members (",
            PeopleState.team_members.length(),
            " chosen)",
            size="2",
            weight="medium",
        ),
        rx.box(
            rx.foreach(PeopleState.team_picked, lambda p: _member_box(p, p[1].to(str))),
            max_height="9em",
            overflow_y="auto",
            width="100%",
            class_name="team-picked",
        ),
        labelled(
            "Find staff by name or email",
            "t-find",
            rx.debounce_input(
                rx.input(
                    id="t-find",
                    type="search",
                    value=PeopleState.staff_query,
                    on_change=PeopleState.search_staff,
                    min_height=TARGET,
                    width="100%",
                ),
                debounce_timeout=300,
            ),
        ),
        rx.box(
            rx.foreach(
                PeopleState.staff,
                lambda p: _member_box(p, p[1].to(str) + " · " + p[2].to(str)),
            ),
            max_height="12em",
            overflow_y="auto",
            width="100%",
            class_name="staff-results",
        ),
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                disabled=PeopleState.staff_page <= 1,
                on_click=PeopleState.staff_go_page(-1),
                min_height=TARGET,
                aria_label="Previous staff page",
            ),
            rx.text(
                PeopleState.staff_total,
                " staff · page ",
                PeopleState.staff_page,
                " of ",
                PeopleState.staff_pages,
                size="1",
            ),
            rx.button(
                "Next",
                variant="soft",
                disabled=PeopleState.staff_page >= PeopleState.staff_pages,
                on_click=PeopleState.staff_go_page(1),
                min_height=TARGET,
                aria_label="Next staff page",
            ),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )


def team_dialog() -> rx.Component:
    return form_dialog(
        rx.cond(PeopleState.team_id == "", "New team", "Team"),
        PeopleState.team_error,
        labelled(
            "Team name",
            "t-name",
            rx.input(
                id="t-name",
                value=PeopleState.team_name,
                on_change=PeopleState.set_team_name,
                min_height=TARGET,
                width="100%",
            ),
        ),
        member_picker(),
        labelled(
            "Lead",
            "t-lead",
            choice(
                "t-lead",
                PeopleState.team_lead,
                PeopleState.set_team_lead,
                rx.select.item("No lead", value=NONE),
                var_options(PeopleState.team_picked),
            ),
        ),
        on_cancel=PeopleState.close_team,
        save_label="Save team",
        on_save=PeopleState.save_team,
        open=PeopleState.team_open,
    )
