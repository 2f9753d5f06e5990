"""The platform operator's tenants page."""

from __future__ import annotations

import reflex as rx

from components.auth import error_callout
from components.dialogs import form_dialog
from components.fields import field_label, labelled
from components.layout import CONSOLE_MARGINS
from state.operator import OperatorState


def _input(
    label: str, name: str, kind: str = "text", hint: str = "", required: bool = True
) -> rx.Component:
    """A labelled field of the new-organisation form; `hint` is an example value."""
    ident = f"op-{name}"
    return labelled(
        label,
        ident,
        rx.input(
            id=ident,
            name=name,
            type=kind,
            required=required,
            placeholder=hint,
            width="100%",
        ),
    )


def create_tenant_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New organisation", size="4", as_="h2"),
                error_callout(OperatorState.create_error),
                rx.grid(
                    _input("Slug", "slug", hint="oak-street"),
                    _input("Name", "name"),
                    _input(
                        "Kind", "kind", hint="property, restaurant…", required=False
                    ),
                    _input(
                        "Timezone", "timezone", hint="Europe/London", required=False
                    ),
                    _input("Admin name", "admin_name"),
                    _input("Admin email", "admin_email", "email"),
                    _input(
                        "Admin password (10+ characters)", "admin_password", "password"
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="2",
                    width="100%",
                ),
                rx.button("Create", type="submit"),
                spacing="3",
            ),
            on_submit=OperatorState.create_tenant,
            reset_on_submit=False,
        ),
        width="100%",
    )


def tenant_row(t: rx.Var) -> rx.Component:
    active = t["status"] == "active"
    return rx.table.row(
        rx.table.cell(t["slug"]),
        rx.table.cell(t["name"]),
        rx.table.cell(t["users"]),
        rx.table.cell(t["seats"]),
        rx.table.cell(t["tokens"]),
        rx.table.cell(t["cost"]),
        rx.table.cell(t["plan"]),
        rx.table.cell(
            rx.badge(
                t["status"],
                color_scheme=rx.cond(active, "green", "red"),
                high_contrast=True,
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Plan",
                    size="2",
                    variant="soft",
                    on_click=OperatorState.open_plan(t["id"]),
                    min_height="44px",
                    aria_label="Plan of " + t["slug"].to(str),
                ),
                rx.button(
                    rx.cond(active, "Suspend", "Resume"),
                    size="2",
                    variant="soft",
                    color_scheme=rx.cond(active, "red", "green"),
                    # Soft green text is 4.28:1 on its tint (axe wants 4.5).
                    high_contrast=True,
                    on_click=OperatorState.set_suspended(t["id"], active),
                    min_height="44px",
                ),
                spacing="2",
            )
        ),
        class_name="tenant-row",
    )


def tenants_table() -> rx.Component:
    headers = [
        "Slug",
        "Name",
        "Users",
        "Active / seats",
        "Tokens this month / limit",
        "Cost",
        "Plan",
        "Status",
        "",
    ]
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in headers])
            ),
            rx.table.body(rx.foreach(OperatorState.tenants, tenant_row)),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def _plan_field(
    label: str, ident: str, value: rx.Var, on_change: object
) -> rx.Component:
    return rx.vstack(
        field_label(label, ident),
        rx.input(
            id=ident,
            value=value,
            on_change=on_change,
            type="number",
            min="0",
            placeholder="no limit",
            min_height="44px",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def plan_dialog() -> rx.Component:
    """The plan limits of one organisation (empty: no limit)."""
    return form_dialog(
        rx.fragment("Plan of ", OperatorState.plan_slug),
        OperatorState.plan_error,
        _plan_field(
            "Monthly token budget",
            "plan-budget",
            OperatorState.plan_budget,
            OperatorState.set_plan_budget,
        ),
        _plan_field(
            "Seats (active accounts)",
            "plan-seats",
            OperatorState.plan_seats,
            OperatorState.set_plan_seats,
        ),
        rx.text(
            "The assistant stops at the smaller of this budget and the "
            "organisation's own. New accounts past the seats are refused; "
            "nobody is disabled.",
            size="1",
            color_scheme="gray",
        ),
        on_cancel=OperatorState.close_plan,
        save_label="Save plan",
        on_save=OperatorState.save_plan,
        open=OperatorState.plan_open,
    )


def operator_page() -> rx.Component:
    return rx.el.main(
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading("Organisations", size="6", as_="h1"),
                    rx.spacer(),
                    rx.button(
                        "Sign out",
                        size="2",
                        variant="soft",
                        on_click=OperatorState.operator_logout,
                        min_height="44px",
                    ),
                    width="100%",
                    align="center",
                ),
                tenants_table(),
                plan_dialog(),
                create_tenant_form(),
                spacing="4",
                padding_y="1.5em",
            ),
            size="4",
        ),
        **CONSOLE_MARGINS,
    )
