"""The app shell: a top bar and, on phones and desktops alike, a bottom nav."""

from __future__ import annotations

import reflex as rx

from state import routes
from state.session import SessionState

MAX_WIDTH = "640px"


def unread_badge() -> rx.Component:
    return rx.cond(
        SessionState.unread > 0,
        rx.badge(
            SessionState.unread,
            color_scheme="red",
            variant="solid",
            radius="full",
            size="1",
            position="absolute",
            top="-6px",
            right="-12px",
            id="unread-badge",
        ),
    )


def nav_item(
    label: str, icon: str, href: str, badge: rx.Component | None = None
) -> rx.Component:
    here = SessionState.router.url.path.to(str)
    current = (here == href) | (here == href + "/")
    return rx.link(
        rx.vstack(
            rx.box(rx.icon(icon, size=20), badge or rx.fragment(), position="relative"),
            rx.text(label, size="1"),
            spacing="1",
            align="center",
        ),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label=label,
        aria_current=rx.cond(current, "page", "false"),
        weight=rx.cond(current, "bold", "regular"),
        flex="1",
        padding_y="0.5em",
        min_height="44px",
    )


def bottom_nav() -> rx.Component:
    return rx.box(
        rx.hstack(
            nav_item("Chat", "message-circle", routes.CHAT),
            nav_item("Requests", "inbox", routes.REQUESTS),
            rx.cond(
                SessionState.is_staff,
                nav_item("Tasks", "list-checks", routes.TASKS),
            ),
            nav_item("Alerts", "bell", routes.ALERTS, unread_badge()),
            rx.cond(
                SessionState.can_approve,
                nav_item("Approvals", "shield-check", routes.APPROVALS),
            ),
            max_width=MAX_WIDTH,
            margin_x="auto",
            justify="between",
            spacing="0",
        ),
        position="fixed",
        bottom="0",
        left="0",
        right="0",
        background_color=rx.color("gray", 1),
        border_top=f"1px solid {rx.color('gray', 5)}",
        padding_bottom="env(safe-area-inset-bottom)",
        z_index="10",
        role="navigation",
    )


def top_bar(title: str) -> rx.Component:
    return rx.hstack(
        rx.heading(title, size="5", as_="h1"),
        rx.spacer(),
        rx.cond(
            SessionState.is_admin,
            rx.link("Admin", href=routes.ADMIN, size="2", padding="0.75em"),
        ),
        rx.text(SessionState.user_name, size="2", color_scheme="gray"),
        rx.icon_button(
            rx.icon("log-out", size=16),
            variant="ghost",
            on_click=SessionState.logout,
            aria_label="Sign out",
            size="3",
        ),
        align="center",
        width="100%",
        padding_y="0.75em",
    )


def shell(title: str, *children: rx.Component) -> rx.Component:
    """A signed-in page: top bar, content, bottom nav (leaves room for the nav)."""
    return rx.box(
        rx.el.main(
            top_bar(title),
            *children,
            max_width=MAX_WIDTH,
            margin_x="auto",
            padding_x="1em",
            padding_bottom="5em",
        ),
        bottom_nav(),
        min_height="100dvh",
    )


def empty(message: str) -> rx.Component:
    return rx.text(message, color_scheme="gray", size="2", padding_y="2em")
