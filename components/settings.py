"""Settings: when push notifications may reach the person, and whether relayed
messages come one by one or as a digest. Every field has a visible label."""

from __future__ import annotations

import reflex as rx

from components.fields import TARGET
from components.layout import shell
from state.settings import DIGEST, DIGEST_MINUTES, IMMEDIATE, SettingsState


def _time_field(
    label: str, id_: str, value: rx.Var, on_change: rx.EventHandler
) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=id_, class_name="rt-Text rt-r-size-2"),
        rx.input(
            type="time",
            id=id_,
            name=id_,
            value=value,
            on_change=on_change,
            disabled=~SettingsState.quiet_hours,
            size="3",
            min_height=TARGET,
        ),
        spacing="1",
    )


def push_hours_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("When to push", size="3", as_="h2"),
            rx.text(
                "Outside these hours nothing buzzes your phone; alerts wait in "
                "the app.",
                size="2",
                color_scheme="gray",
                high_contrast=True,
            ),
            # The whole row, label included, is the tap target.
            rx.el.label(
                rx.switch(
                    id="quiet-hours",
                    checked=SettingsState.quiet_hours,
                    on_change=SettingsState.set_quiet_hours,
                    size="3",
                ),
                rx.text("Only between set hours", size="2"),
                display="flex",
                align_items="center",
                gap="0.5em",
                min_height=TARGET,
                cursor="pointer",
            ),
            rx.hstack(
                _time_field(
                    "From",
                    "push-from",
                    SettingsState.push_from,
                    SettingsState.set_push_from,
                ),
                _time_field(
                    "Until",
                    "push-until",
                    SettingsState.push_until,
                    SettingsState.set_push_until,
                ),
                spacing="4",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def delivery_card() -> rx.Component:
    return rx.card(
        rx.el.fieldset(
            rx.el.legend(
                rx.heading("Messages passed on to you", size="3", as_="h2"),
                padding_bottom="0.5em",
            ),
            rx.radio_group.root(
                rx.vstack(
                    rx.el.label(
                        rx.radio_group.item(value=IMMEDIATE, id="delivery-immediate"),
                        "Each one as it arrives",
                        html_for="delivery-immediate",
                        class_name="rt-Text rt-r-size-2",
                        style={
                            "display": "flex",
                            "gap": "0.5em",
                            "align_items": "center",
                            "min_height": "44px",
                        },
                    ),
                    rx.el.label(
                        rx.radio_group.item(value=DIGEST, id="delivery-digest"),
                        f"One summary at most every {DIGEST_MINUTES} minutes",
                        html_for="delivery-digest",
                        class_name="rt-Text rt-r-size-2",
                        style={
                            "display": "flex",
                            "gap": "0.5em",
                            "align_items": "center",
                            "min_height": "44px",
                        },
                    ),
                    spacing="1",
                ),
                value=SettingsState.delivery,
                on_change=SettingsState.set_delivery,
                name="delivery",
                size="3",
            ),
            rx.text(
                "News about your own requests and approvals to decide always "
                "come at once.",
                size="1",
                color_scheme="gray",
                high_contrast=True,
            ),
            border="none",
            padding="0",
            margin="0",
        ),
        width="100%",
    )


def settings_page() -> rx.Component:
    return shell(
        "Settings",
        rx.vstack(
            push_hours_card(),
            delivery_card(),
            rx.button(
                "Save",
                on_click=SettingsState.save_settings,
                size="3",
                min_height="44px",
                id="save-settings",
            ),
            spacing="4",
            width="100%",
            padding_bottom="1em",
        ),
    )
