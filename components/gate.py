"""The console's frame and its gate: admins see the console, managers their
approvals and teams; employees and residents a clean "not available for your role"
page (no skeleton, no toasts). The gate only chooses
what to draw: every handler behind it checks the role on the server."""

from __future__ import annotations

import reflex as rx

from components.fields import text_link
from components.layout import CONSOLE_MARGINS
from state import routes
from state.session import SessionState


def not_available() -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.heading("Not available for your role", size="5", as_="h1"),
                    rx.text(
                        "The admin console is for your organisation's administrators.",
                        size="2",
                    ),
                    rx.cond(
                        SessionState.can_approve,
                        text_link("Open your approvals", routes.APPROVALS),
                    ),
                    text_link("Back to the app", routes.CHAT),
                    spacing="3",
                ),
                max_width="28em",
                id="not-available",
            ),
            min_height="70vh",
            padding="1em",
        )
    )


def admin_only(
    console: rx.Component, for_managers: rx.Component | None = None
) -> rx.Component:
    """The console for admins; `for_managers` (if given) for managers; the refusal
    for other signed-in users; a spinner while the session is being checked
    (on_load sends signed-out visitors away)."""
    refused = rx.cond(
        SessionState.signed_in,
        not_available(),
        rx.center(rx.spinner(size="3"), min_height="70vh"),
    )
    return rx.cond(
        SessionState.is_admin,
        console,
        rx.cond(SessionState.can_approve, for_managers, refused)
        if for_managers is not None
        else refused,
    )


def console_frame(title: str, *children: rx.Component) -> rx.Component:
    return rx.el.main(
        rx.container(
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="6", as_="h1"),
                    rx.spacer(),
                    text_link("Console", routes.ADMIN),
                    text_link("Back to the app", routes.CHAT),
                    rx.button(
                        "Sign out",
                        size="2",
                        variant="soft",
                        on_click=SessionState.logout,
                        min_height="44px",
                    ),
                    align="center",
                    width="100%",
                    wrap="wrap",
                ),
                *children,
                spacing="4",
                padding_y="1.5em",
                width="100%",
            ),
            size="4",
            padding_x="1em",
        ),
        **CONSOLE_MARGINS,
    )
