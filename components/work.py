"""Tasks, alerts and approvals: cards in a list, one action each."""

from __future__ import annotations

import reflex as rx

from components.layout import empty, shell
from state.approvals import ApprovalsState
from state.push import PushState
from state.requests import RequestsState
from state.session import SessionState
from state.work import AlertsState, TasksState

STATUS_LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "cancelled": "Cancelled",
}


def task_card(t: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(t["title"], weight="medium"),
                rx.spacer(),
                rx.badge(t["status"], variant="soft"),
                width="100%",
            ),
            rx.cond(
                t["where"] != "", rx.text(t["where"], size="1", color_scheme="gray")
            ),
            rx.cond(t["details"] != "", rx.text(t["details"], size="2")),
            rx.cond(
                t["priority"] == "urgent",
                rx.badge("urgent", color_scheme="red", variant="solid", size="1"),
            ),
            rx.cond(t["due"] != "", rx.text("Due ", t["due"], size="1")),
            rx.select.root(
                rx.select.trigger(
                    placeholder="Set status",
                    aria_label="Status of " + t["title"],
                    min_height="44px",
                ),
                rx.select.content(
                    *[rx.select.item(v, value=k) for k, v in STATUS_LABELS.items()]
                ),
                value=t["status"],
                on_change=lambda v: TasksState.set_task_status(t["id"], v),
                size="2",
            ),
            spacing="2",
        ),
        width="100%",
        class_name="task",
        id=t["anchor"],
        data_status=t["status"],
    )


def tasks_page() -> rx.Component:
    return shell(
        "Tasks",
        rx.cond(
            TasksState.tasks.length() > 0,
            rx.vstack(rx.foreach(TasksState.tasks, task_card), width="100%"),
            empty("No tasks for you or your teams."),
        ),
    )


def alert_card(a: rx.Var) -> rx.Component:
    content = rx.vstack(
        rx.text(a["title"], weight=rx.cond(a["unread"] == "1", "bold", "regular")),
        rx.cond(a["body"] != "", rx.text(a["body"], size="2")),
        rx.hstack(
            rx.text(a["at"], size="1", color_scheme="gray", high_contrast=True),
            rx.cond(
                a["more"] != "",
                rx.badge(a["more"], size="1", variant="soft", class_name="more"),
            ),
            spacing="2",
            align="center",
        ),
        spacing="1",
        flex="1",
    )
    return rx.card(
        rx.hstack(
            # An alert opens what it is about (and counts as read).
            rx.cond(
                a["href"] != "",
                rx.link(
                    content,
                    href=a["href"],
                    underline="none",
                    color_scheme="gray",
                    high_contrast=True,
                    on_click=AlertsState.mark_group_read(a["ids"]),
                    flex="1",
                    class_name="alert-link",
                ),
                content,
            ),
            rx.cond(
                a["unread"] == "1",
                rx.button(
                    "Mark read",
                    size="2",
                    min_height="44px",
                    variant="soft",
                    on_click=AlertsState.mark_group_read(a["ids"]),
                ),
            ),
            align="start",
            width="100%",
        ),
        width="100%",
        class_name="alert",
    )


def push_card() -> rx.Component:
    """Offer push notifications (for when the app is closed) until they are on."""
    return rx.cond(
        PushState.push_enabled,
        rx.text(
            "Push notifications are on for this device.",
            size="1",
            color_scheme="gray",
        ),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("bell-ring", size=16),
                    rx.text("Get alerts here when the app is closed.", size="2"),
                    rx.spacer(),
                    rx.button(
                        "Turn on",
                        size="2",
                        on_click=PushState.enable_push,
                        id="enable-push",
                    ),
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    PushState.push_error != "",
                    rx.text(PushState.push_error, size="1", color_scheme="red"),
                ),
                spacing="1",
                width="100%",
            ),
            size="1",
            width="100%",
        ),
    )


def alerts_page() -> rx.Component:
    return shell(
        "Alerts",
        rx.vstack(
            push_card(),
            rx.hstack(
                rx.text(SessionState.unread, " unread", size="2"),
                rx.spacer(),
                rx.cond(
                    SessionState.unread > 0,
                    rx.button(
                        "Mark all read",
                        size="1",
                        variant="ghost",
                        on_click=AlertsState.mark_all_read,
                    ),
                ),
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    "Refresh",
                    size="1",
                    variant="ghost",
                    on_click=AlertsState.load_alerts,
                ),
                width="100%",
                align="center",
            ),
            width="100%",
            padding_bottom="0.5em",
        ),
        rx.cond(
            (AlertsState.fresh.length() > 0) | (AlertsState.alerts.length() > 0),
            rx.vstack(
                # What arrived while the page is open, above what it opened with.
                rx.foreach(AlertsState.fresh, alert_card),
                rx.foreach(AlertsState.alerts, alert_card),
                width="100%",
            ),
            empty("Nothing new."),
        ),
    )


def approval_card(a: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(a["summary"], weight="medium"),
            rx.cond(
                a["amount"] != "",
                rx.text("Amount: ", a["amount"], size="2", class_name="amount"),
            ),
            rx.text(
                a["requester"], " asked ", a["asked_at"], size="2", class_name="asked"
            ),
            rx.cond(
                a["message"] != "",
                rx.blockquote(a["message"], size="2", class_name="original"),
            ),
            rx.text(
                "Needs a ", a["required_role"], " · expires ", a["expires"], size="1"
            ),
            rx.hstack(
                rx.button(
                    "Approve",
                    color_scheme="green",
                    size="3",
                    on_click=ApprovalsState.decide(a["id"], True),
                ),
                rx.button(
                    "Reject",
                    color_scheme="red",
                    variant="soft",
                    size="3",
                    on_click=ApprovalsState.decide(a["id"], False),
                ),
            ),
            spacing="2",
        ),
        width="100%",
        class_name="approval",
    )


def approvals_list() -> rx.Component:
    return rx.cond(
        ApprovalsState.approvals.length() > 0,
        rx.vstack(rx.foreach(ApprovalsState.approvals, approval_card), width="100%"),
        empty("No approvals waiting."),
    )


def approvals_page() -> rx.Component:
    return shell("Approvals", approvals_list())


REQUEST_COLORS = {
    "waiting for approval": "amber",
    "rejected": "red",
    "expired": "red",
    "failed": "red",
    "done": "green",
    "approved": "green",
}


def request_card(r: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(r["title"], weight="medium"),
                rx.spacer(),
                rx.badge(
                    r["status"],
                    variant=rx.cond(r["finished"] == "1", "surface", "soft"),
                    high_contrast=True,
                    color_scheme=rx.match(
                        r["status"],
                        *REQUEST_COLORS.items(),
                        "blue",
                    ),
                    size="2",
                    class_name="request-status",
                ),
                width="100%",
                align="start",
            ),
            rx.text(r["kind"], " · ", r["at"], size="1", color_scheme="gray"),
            rx.cond(
                r["linked"] == "1",
                rx.text(
                    "Already reported: your report was added to this task.", size="1"
                ),
            ),
            rx.text("You wrote: ", r["message"], size="2", color_scheme="gray"),
            rx.cond(
                r["href"] != "", rx.link("Open the task", href=r["href"], size="2")
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        class_name="request",
        data_status=r["status"],
    )


def requests_page() -> rx.Component:
    return shell(
        "My requests",
        rx.cond(
            RequestsState.requests.length() > 0,
            rx.vstack(rx.foreach(RequestsState.requests, request_card), width="100%"),
            empty("Nothing yet. Ask the assistant in the chat."),
        ),
    )
