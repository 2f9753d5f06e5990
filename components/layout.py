"""The app shell: a top bar and the navigation, at the bottom on phones and as a
side bar on desktops (from the `lg` breakpoint, 62em), where the content is wider."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.fields import text_link
from state import routes
from state.session import SessionState

MAX_WIDTH = "640px"
DESKTOP_WIDTH = "960px"
SIDE_NAV = "200px"
# Desktops keep a column free on the right for toasts (app/app.py), so a toast
# never covers the page header, the list or a button: the app's shell and the
# consoles (`TOASTS_CLEAR`) alike.
TOAST_WIDTH = "300px"
TOAST_MARGIN = "20px"
TOAST_GUTTER = "340px"


def phone_desktop(phone: str, desktop: str) -> Any:
    """A style value for phones, and another from the `lg` breakpoint up."""
    return rx.breakpoints(initial=phone, lg=desktop)


# The style that keeps a page's content out of the toast column on desktops.
TOASTS_CLEAR: dict[str, Any] = {"padding_right": phone_desktop("0", TOAST_GUTTER)}
# A console page (admin, manager, operator): a margin on the left to balance it.
CONSOLE_MARGINS: dict[str, Any] = {
    "padding_left": phone_desktop("0", "2em"),
    **TOASTS_CLEAR,
}


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
        rx.stack(
            rx.box(rx.icon(icon, size=20), badge or rx.fragment(), position="relative"),
            rx.text(label, size=phone_desktop("1", "3")),
            spacing=phone_desktop("1", "3"),
            align="center",
            flex_direction=phone_desktop("column", "row"),
        ),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label=label,
        aria_current=rx.cond(current, "page", "false"),
        weight=rx.cond(current, "bold", "regular"),
        flex=phone_desktop("1", "0 0 auto"),
        padding_y="0.5em",
        padding_x=phone_desktop("0", "1.5em"),
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
            max_width=phone_desktop(MAX_WIDTH, "none"),
            margin_x="auto",
            justify="between",
            spacing=phone_desktop("0", "4"),
            flex_direction=phone_desktop("row", "column"),
            padding_top=phone_desktop("0", "5em"),
        ),
        position="fixed",
        bottom="0",
        left="0",
        right=phone_desktop("0", "auto"),
        top=phone_desktop("auto", "0"),
        width=phone_desktop("auto", SIDE_NAV),
        background_color=rx.color("gray", 1),
        border_top=phone_desktop(f"1px solid {rx.color('gray', 5)}", "none"),
        border_right=phone_desktop("none", f"1px solid {rx.color('gray', 5)}"),
        padding_bottom="env(safe-area-inset-bottom)",
        z_index="10",
        role="navigation",
    )


def top_bar(title: str) -> rx.Component:
    return rx.hstack(
        rx.heading(title, size="5", as_="h1"),
        rx.spacer(),
        rx.cond(
            SessionState.can_approve,  # admins: the console; managers: their view
            text_link(
                rx.cond(SessionState.is_admin, "Admin", "Console"),
                routes.ADMIN,
                padding_x="0.75em",
            ),
        ),
        rx.text(SessionState.user_name, size="2", color_scheme="gray"),
        rx.link(
            rx.icon("settings", size=18),
            href=routes.SETTINGS,
            aria_label="Settings",
            color_scheme="gray",
            high_contrast=True,
            display="inline-flex",
            align_items="center",
            justify_content="center",
            min_width="44px",
            min_height="44px",
        ),
        rx.icon_button(
            rx.icon("log-out", size=16),
            variant="ghost",
            on_click=SessionState.logout,
            aria_label="Sign out",
            size="3",
            min_width="44px",
            min_height="44px",
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
            max_width=phone_desktop(MAX_WIDTH, DESKTOP_WIDTH),
            margin_x="auto",
            padding_x=phone_desktop("1em", "2em"),
            padding_bottom=phone_desktop("5em", "2em"),
        ),
        bottom_nav(),
        min_height="100dvh",
        padding_left=phone_desktop("0", SIDE_NAV),
        **TOASTS_CLEAR,
    )


def empty(message: str) -> rx.Component:
    return rx.text(message, color_scheme="gray", size="2", padding_y="2em")
