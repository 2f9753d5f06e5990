"""The console for managers: their approvals and their teams, read-only where
only admins may change things."""

from __future__ import annotations

import reflex as rx

from components.gate import console_frame
from components.work import approvals_list
from state.manager import ManagerState


def member_row(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(m[1]),
        rx.table.cell(m[2]),
        rx.table.cell(
            rx.cond(m[3] == "lead", rx.badge("lead", high_contrast=True), ""),
        ),
        class_name="my-member",
    )


def team_card(t: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t["name"], size="3", as_="h3"),
            rx.text(t["size"], " members", size="1", color_scheme="gray"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Name", "Role", "")]
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        ManagerState.my_members,
                        lambda m: rx.cond(m[0] == t["id"], member_row(m)),
                    )
                ),
                size="1",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="my-team",
    )


def my_teams() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Team membership and roles are managed by your organisation's admins.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            ManagerState.my_teams.length() > 0,
            rx.grid(
                rx.foreach(ManagerState.my_teams, team_card),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            rx.text("You are not on any team yet.", size="2"),
        ),
        spacing="3",
        width="100%",
    )


def manager_console() -> rx.Component:
    return console_frame(
        "Team console",
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Approvals", value="approvals"),
                rx.tabs.trigger("My teams", value="teams"),
                flex_wrap="wrap",
            ),
            rx.tabs.content(
                rx.box(approvals_list(), padding_top="1em"), value="approvals"
            ),
            rx.tabs.content(rx.box(my_teams(), padding_top="1em"), value="teams"),
            default_value="approvals",
            width="100%",
        ),
    )
