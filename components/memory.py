"""The console's memory tab: what the assistant knows, by scope and source."""

from __future__ import annotations

import reflex as rx

from components.auth import error_callout
from components.dialogs import form_dialog
from components.fields import TARGET, choice, labelled, options, var_options
from state.memory import ANY, SCOPE_LABELS, SOURCE_LABELS, MemoryState


def filters() -> rx.Component:
    return rx.grid(
        labelled(
            "Search",
            "m-query",
            rx.debounce_input(
                rx.input(
                    id="m-query",
                    type="search",
                    value=MemoryState.query,
                    on_change=lambda v: MemoryState.set_filter("query", v),
                    min_height=TARGET,
                    width="100%",
                ),
                debounce_timeout=300,
            ),
        ),
        labelled(
            "Scope",
            "m-scope",
            choice(
                "m-scope",
                MemoryState.f_scope,
                lambda v: MemoryState.set_filter("scope", v),
                *options([(ANY, "Any scope"), *SCOPE_LABELS.items()]),
            ),
        ),
        labelled(
            "Source",
            "m-source",
            choice(
                "m-source",
                MemoryState.f_source,
                lambda v: MemoryState.set_filter("source", v),
                *options([(ANY, "Any source"), *SOURCE_LABELS.items()]),
            ),
        ),
        columns=rx.breakpoints(initial="1", sm="3"),
        spacing="2",
        width="100%",
    )


def memory_card(m: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(m["text"], size="2"),
            rx.hstack(
                rx.badge(m["scope"]),
                rx.text(m["about"], size="1"),
                rx.text("·", size="1", color_scheme="gray"),
                rx.text(m["source"], size="1", color_scheme="gray"),
                rx.text(m["at"], size="1", color_scheme="gray"),
                rx.cond(
                    m["embedded"] != "",
                    rx.badge(
                        m["embedded"],
                        color_scheme="amber",
                        size="1",
                        high_contrast=True,
                    ),
                ),
                rx.spacer(),
                rx.button(
                    "Edit",
                    variant="soft",
                    size="2",
                    on_click=MemoryState.open_edit(m["id"]),
                    min_height=TARGET,
                ),
                rx.button(
                    "Forget",
                    variant="soft",
                    color_scheme="red",
                    size="2",
                    on_click=MemoryState.forget(m["id"]),
                    min_height=TARGET,
                ),
                align="center",
                wrap="wrap",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="memory",
    )


def add_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Teach the assistant", size="3", as_="h2"),
            error_callout(MemoryState.add_error),
            labelled(
                "What it should know",
                "m-new-text",
                rx.text_area(
                    id="m-new-text",
                    value=MemoryState.new_text,
                    on_change=lambda v: MemoryState.set_new("text", v),
                    rows="3",
                    width="100%",
                ),
            ),
            rx.grid(
                labelled(
                    "For",
                    "m-new-scope",
                    choice(
                        "m-new-scope",
                        MemoryState.new_scope,
                        lambda v: MemoryState.set_new("scope", v),
                        *options(SCOPE_LABELS.items()),
                    ),
                ),
                rx.cond(
                    MemoryState.new_scope == "team",
                    labelled(
                        "Team",
                        "m-new-team",
                        choice(
                            "m-new-team",
                            MemoryState.new_team,
                            lambda v: MemoryState.set_new("team", v),
                            var_options(MemoryState.team_choices),
                        ),
                    ),
                ),
                rx.cond(
                    MemoryState.new_scope == "user",
                    labelled(
                        "Person's email",
                        "m-new-email",
                        rx.input(
                            id="m-new-email",
                            type="email",
                            value=MemoryState.new_email,
                            on_change=lambda v: MemoryState.set_new("email", v),
                            min_height=TARGET,
                            width="100%",
                        ),
                    ),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="2",
                width="100%",
            ),
            rx.button("Remember", on_click=MemoryState.add, min_height=TARGET),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def edit_dialog() -> rx.Component:
    return form_dialog(
        "Edit memory",
        MemoryState.edit_error,
        labelled(
            "Text",
            "m-edit-text",
            rx.text_area(
                id="m-edit-text",
                value=MemoryState.edit_text,
                on_change=MemoryState.set_edit_text,
                rows="5",
                width="100%",
            ),
        ),
        on_cancel=MemoryState.close_edit,
        save_label="Save",
        on_save=MemoryState.save_edit,
        open=MemoryState.edit_open,
        width="32em",
    )


def memory_tab() -> rx.Component:
    return rx.vstack(
        add_form(),
        filters(),
        rx.text(MemoryState.total, " memories", size="2", color_scheme="gray"),
        rx.foreach(MemoryState.memories, memory_card),
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                disabled=MemoryState.page <= 1,
                on_click=MemoryState.go_page(-1),
                min_height=TARGET,
            ),
            rx.text("Page ", MemoryState.page, " of ", MemoryState.pages, size="2"),
            rx.button(
                "Next",
                variant="soft",
                disabled=MemoryState.page >= MemoryState.pages,
                on_click=MemoryState.go_page(1),
                min_height=TARGET,
            ),
            align="center",
            spacing="3",
        ),
        edit_dialog(),
        spacing="3",
        width="100%",
    )
