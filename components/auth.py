"""Sign-in forms: organisation users and platform operators."""

from __future__ import annotations

import reflex as rx

from state.operator import OperatorState
from state.session import SessionState


def field(label: str, name: str, kind: str = "text", **props: object) -> rx.Component:
    """A labelled input: the label names the field for screen readers too."""
    field_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(
            name=name,
            id=field_id,
            type=kind,
            required=True,
            width="100%",
            size="3",
            **props,
        ),
        spacing="1",
        width="100%",
    )


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert"),
    )


def centered(*children: rx.Component) -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(*children, spacing="4", width="100%"),
                width="100%",
                max_width="400px",
                size="3",
            ),
            min_height="100dvh",
            padding="1em",
        )
    )


def login_page() -> rx.Component:
    return centered(
        rx.heading("Sign in to Switchboard", size="6", as_="h1"),
        error_callout(SessionState.login_error),
        rx.form(
            rx.vstack(
                field(
                    "Organisation",
                    "org",
                    default_value=SessionState.org_slug,
                    placeholder="maple-court",
                    auto_capitalize="none",
                ),
                field("Email", "email", "email", auto_complete="username"),
                field(
                    "Password", "password", "password", auto_complete="current-password"
                ),
                rx.button("Sign in", type="submit", width="100%", size="3"),
                spacing="3",
            ),
            on_submit=SessionState.login,
            width="100%",
        ),
    )


def operator_login_page() -> rx.Component:
    return centered(
        rx.heading("Platform operator", size="6", as_="h1"),
        error_callout(OperatorState.login_error),
        rx.form(
            rx.vstack(
                field("Email", "email", "email", auto_complete="username"),
                field(
                    "Password", "password", "password", auto_complete="current-password"
                ),
                rx.button("Sign in", type="submit", width="100%", size="3"),
                spacing="3",
            ),
            on_submit=OperatorState.operator_login,
            width="100%",
        ),
    )
