"""The admin console (/admin): tabs of tables."""

from __future__ import annotations

import reflex as rx

from app.domain.money import CURRENCIES
from app.domain.roles import APPROVER_ROLES, ROLES
from components.audit import audit_tab
from components.auth import error_callout
from components.fields import TARGET, check, field_label, labelled
from components.gate import admin_only, console_frame
from components.integrations import integrations_tab
from components.manager import manager_console
from components.memory import memory_tab
from components.people import people_table, teams_section
from components.properties import properties_tab
from components.usage import usage_tab
from components.work import approvals_list
from state.admin import APPROVABLE, AdminState


def table(columns: list[tuple[str, str]], rows: rx.Var) -> rx.Component:
    """A table of dict rows: `columns` are (key, header) pairs."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(header) for _, header in columns]
                )
            ),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda r: rx.table.row(
                        *[rx.table.cell(r[key]) for key, _ in columns]
                    ),
                )
            ),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def create_user_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New user", size="3", as_="h2"),
                error_callout(AdminState.create_error),
                rx.grid(
                    labelled(
                        "Name",
                        "u-name",
                        rx.input(id="u-name", name="name", required=True, width="100%"),
                    ),
                    labelled(
                        "Email",
                        "u-email",
                        rx.input(
                            id="u-email",
                            name="email",
                            type="email",
                            required=True,
                            width="100%",
                        ),
                    ),
                    labelled(
                        "Role",
                        "u-role",
                        rx.select.root(
                            rx.select.trigger(id="u-role", width="100%"),
                            rx.select.content(
                                *[rx.select.item(r, value=r) for r in ROLES]
                            ),
                            name="role",
                            default_value="employee",
                        ),
                    ),
                    labelled(
                        "Password (10+ characters)",
                        "u-password",
                        rx.input(
                            id="u-password",
                            name="password",
                            type="password",
                            required=True,
                            width="100%",
                        ),
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="2",
                    width="100%",
                ),
                rx.button("Create user", type="submit"),
                spacing="3",
            ),
            on_submit=AdminState.create_user,
            reset_on_submit=False,
        ),
        width="100%",
    )


def settings_form() -> rx.Component:
    """The assistant policy and the monthly token budget."""
    return rx.card(
        rx.vstack(
            rx.heading("Assistant policy", size="3", as_="h2"),
            error_callout(AdminState.settings_error),
            rx.text("Actions that wait for approval:", size="2"),
            *[
                check(
                    t.replace("_", " "),
                    checked=AdminState.approval_flags[t],
                    on_change=lambda v, t=t: AdminState.set_approval_flag(t, v),
                    size="2",
                )
                for t in APPROVABLE
            ],
            rx.grid(
                field_label("Currency", "s-currency"),
                rx.select.root(
                    rx.select.trigger(id="s-currency", width="100%"),
                    rx.select.content(
                        *[rx.select.item(c, value=c) for c in CURRENCIES]
                    ),
                    value=AdminState.currency,
                    on_change=AdminState.set_currency,
                ),
                field_label("Purchases need approval above", "s-threshold"),
                rx.input(
                    id="s-threshold",
                    min_height=TARGET,
                    value=AdminState.purchase_threshold,
                    on_change=AdminState.set_purchase_threshold,
                    type="number",
                    min="0",
                ),
                field_label("Approved by", "s-approver"),
                rx.select.root(
                    rx.select.trigger(id="s-approver", width="100%"),
                    rx.select.content(
                        *[
                            rx.select.item(r, value=r)
                            for r in ROLES
                            if r in APPROVER_ROLES
                        ]
                    ),
                    value=AdminState.approver_role,
                    on_change=AdminState.set_approver_role,
                ),
                field_label("Monthly token budget", "s-budget"),
                rx.input(
                    id="s-budget",
                    min_height=TARGET,
                    value=AdminState.token_budget,
                    on_change=AdminState.set_token_budget,
                    type="number",
                    min="0",
                ),
                field_label("Model", "s-model"),
                rx.input(
                    id="s-model",
                    min_height=TARGET,
                    value=AdminState.model,
                    on_change=AdminState.set_model,
                    placeholder="built-in (platform default)",
                ),
                columns="2",
                spacing="2",
                align="center",
                width="100%",
            ),
            rx.cond(
                AdminState.plan_note != "",
                rx.text(
                    "Your plan allows ",
                    AdminState.plan_note,
                    " (set by the platform operator).",
                    size="1",
                    id="plan-note",
                ),
            ),
            rx.text(
                "Any litellm model string (for example openai/gpt-4o-mini); empty "
                "uses the platform's model.",
                size="1",
                color_scheme="gray",
            ),
            rx.heading("Data policy", size="3", as_="h2"),
            check(
                "Memory content may be sent to an external model provider",
                checked=AdminState.external_memory,
                on_change=AdminState.set_external_memory,
                size="2",
            ),
            rx.text(
                "When off, prompts for an external model carry no memories; the "
                "audit chain shows them as withheld. The built-in model runs here.",
                size="1",
                color_scheme="gray",
            ),
            rx.button(
                "Save settings", on_click=AdminState.save_settings, min_height="44px"
            ),
            spacing="3",
        ),
        width="100%",
        max_width="36em",
    )


def admin_page() -> rx.Component:
    return admin_only(
        for_managers=manager_console(),
        console=console_frame(
            "Admin console",
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Users", value="users"),
                    rx.tabs.trigger("Approvals", value="approvals"),
                    rx.tabs.trigger("Audit", value="audit"),
                    rx.tabs.trigger("Properties", value="properties"),
                    rx.tabs.trigger("Memory", value="memory"),
                    rx.tabs.trigger("Usage", value="usage"),
                    rx.tabs.trigger("Integrations", value="integrations"),
                    rx.tabs.trigger("Settings", value="settings"),
                    # On a phone the tabs wrap instead of being cut off.
                    flex_wrap="wrap",
                ),
                rx.tabs.content(
                    rx.box(settings_form(), padding_top="1em"), value="settings"
                ),
                rx.tabs.content(
                    rx.vstack(
                        people_table(),
                        create_user_form(),
                        teams_section(),
                        spacing="5",
                        padding_top="1em",
                    ),
                    value="users",
                ),
                rx.tabs.content(
                    rx.box(approvals_list(), padding_top="1em"), value="approvals"
                ),
                rx.tabs.content(
                    rx.box(audit_tab(), padding_top="1em"),
                    value="audit",
                ),
                rx.tabs.content(
                    rx.box(properties_tab(), padding_top="1em"),
                    value="properties",
                ),
                rx.tabs.content(
                    rx.box(memory_tab(), padding_top="1em"),
                    value="memory",
                ),
                rx.tabs.content(
                    rx.box(integrations_tab(), padding_top="1em"),
                    value="integrations",
                ),
                rx.tabs.content(
                    rx.box(
                        usage_tab(
                            table(
                                [
                                    ("month", "Month"),
                                    ("calls", "Calls"),
                                    ("tokens", "Tokens"),
                                    ("cost", "Cost"),
                                    ("p50", "Latency p50"),
                                    ("p95", "Latency p95"),
                                ],
                                AdminState.usage,
                            )
                        ),
                        padding_top="1em",
                    ),
                    value="usage",
                ),
                default_value="users",
                width="100%",
            ),
        ),
    )
