"""The console's usage tab: the month's budget gauge, per-day charts (recharts),
and this month per person and per model."""

from __future__ import annotations

import reflex as rx

from state.usage import UsageState


def _chart(title: str, *series: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, weight="medium", size="2"),
            rx.recharts.responsive_container(
                rx.recharts.composed_chart(
                    *series,
                    rx.recharts.x_axis(data_key="day"),
                    rx.recharts.y_axis(),
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    data=UsageState.days,
                ),
                width="100%",
                height=220,
            ),
            width="100%",
        ),
        width="100%",
    )


def budget_gauge() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Token budget, ", UsageState.month, " (UTC)", weight="medium"),
                rx.spacer(),
                rx.text(UsageState.used_pct, "%", weight="bold"),
                width="100%",
            ),
            rx.progress(
                value=UsageState.used_pct,
                max=100,
                color_scheme=rx.cond(UsageState.over_pace, "red", "green"),
                aria_label="Share of the monthly token budget used",
                height="12px",
            ),
            rx.text(
                UsageState.used_text,
                " of ",
                UsageState.budget_text,
                " tokens used; at this pace ",
                UsageState.projected_text,
                " by the end of the month.",
                size="2",
            ),
            rx.cond(
                UsageState.over_pace,
                rx.callout(
                    "At this pace the budget runs out before the month ends; the "
                    "assistant then pauses until the next month.",
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="budget",
    )


def _share_table(title: str, rows: rx.Var) -> rx.Component:
    headers = [title, "Calls", "Tokens", "Cost"]
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in headers])
            ),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda r: rx.table.row(
                        *[
                            rx.table.cell(r[k])
                            for k in ("name", "calls", "tokens", "cost")
                        ]
                    ),
                )
            ),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def usage_tab(monthly: rx.Component) -> rx.Component:
    return rx.vstack(
        budget_gauge(),
        rx.grid(
            _chart(
                "Messages per day",
                rx.recharts.bar(
                    data_key="messages",
                    fill="var(--accent-9)",
                    is_animation_active=False,
                ),
            ),
            _chart(
                "Tokens per day",
                rx.recharts.bar(
                    data_key="tokens", fill="var(--iris-9)", is_animation_active=False
                ),
            ),
            _chart(
                "Cost per day (USD)",
                rx.recharts.line(
                    data_key="cost", stroke="var(--green-9)", is_animation_active=False
                ),
            ),
            _chart(
                "Model latency (ms)",
                rx.recharts.line(
                    data_key="p50", stroke="var(--blue-9)", is_animation_active=False
                ),
                rx.recharts.line(
                    data_key="p95", stroke="var(--red-9)", is_animation_active=False
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        rx.heading("This month", size="4", as_="h2"),
        rx.grid(
            _share_table("Person", UsageState.by_user),
            _share_table("Model", UsageState.by_model),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        rx.heading("Per month", size="4", as_="h2"),
        monthly,
        spacing="3",
        width="100%",
    )
