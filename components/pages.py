"""Pages: functions returning components (no database, no model calls)."""

import reflex as rx


def index() -> rx.Component:
    return rx.container(
        rx.vstack(
            rx.heading("Switchboard", size="8"),
            rx.text("Your organisation's assistant."),
            spacing="4",
            padding_top="20vh",
            align="center",
        )
    )
