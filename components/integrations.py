"""The console's integrations tab: API keys."""

from __future__ import annotations

import reflex as rx

from components.auth import error_callout
from components.fields import TARGET, labelled
from state.integrations import IntegrationsState


def key_row(k: rx.Var) -> rx.Component:
    active = k["state"] == "active"
    return rx.table.row(
        rx.table.cell(k["name"]),
        rx.table.cell(rx.code(k["prefix"])),
        rx.table.cell(k["created"]),
        rx.table.cell(k["last_used"]),
        rx.table.cell(
            rx.badge(
                k["state"],
                color_scheme=rx.cond(active, "green", "gray"),
                high_contrast=True,
            )
        ),
        rx.table.cell(
            rx.cond(
                active,
                rx.button(
                    "Revoke",
                    size="2",
                    variant="soft",
                    color_scheme="red",
                    on_click=IntegrationsState.revoke_key(k["id"]),
                    min_height=TARGET,
                ),
            )
        ),
        class_name="key-row",
    )


def integrations_tab() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Integrations post events with an API key (X-API-Key header) to "
            "/api/v1/events.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            IntegrationsState.created_secret != "",
            rx.callout.root(
                rx.callout.text(
                    "Copy this key now: it is shown only once.", weight="medium"
                ),
                rx.code(IntegrationsState.created_secret, id="new-key"),
                rx.button(
                    "Done",
                    size="2",
                    variant="soft",
                    on_click=IntegrationsState.dismiss_secret,
                    min_height=TARGET,
                ),
                color_scheme="amber",
            ),
        ),
        error_callout(IntegrationsState.key_error),
        rx.hstack(
            labelled(
                "New key name",
                "k-name",
                rx.input(
                    id="k-name",
                    value=IntegrationsState.new_name,
                    on_change=IntegrationsState.set_new_name,
                    min_height=TARGET,
                    width="100%",
                ),
            ),
            rx.button(
                "Create key", on_click=IntegrationsState.create_key, min_height=TARGET
            ),
            align="end",
            width="100%",
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in (
                                "Name",
                                "Prefix",
                                "Created",
                                "Last used",
                                "State",
                                "",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(IntegrationsState.keys, key_row)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
