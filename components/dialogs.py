"""The console's form dialog: a title, the form's error, its fields, then Cancel
and Save, so every dialog of the console reads and behaves alike."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.auth import error_callout
from components.fields import TARGET


def dialog_buttons(on_cancel: Any, save_label: str, on_save: Any) -> rx.Component:
    """The Cancel / Save row at the foot of every console dialog."""
    return rx.hstack(
        rx.button(
            "Cancel",
            variant="soft",
            color_scheme="gray",
            on_click=on_cancel,
            min_height=TARGET,
        ),
        rx.button(save_label, on_click=on_save, min_height=TARGET),
        justify="end",
        width="100%",
    )


def form_dialog(
    title: Any,
    error: rx.Var,
    *fields: rx.Component,
    on_cancel: Any,
    save_label: str,
    on_save: Any,
    open: rx.Var,  # noqa: A002 (the dialog's own prop name)
    width: str = "28em",
) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.vstack(
                error_callout(error),
                *fields,
                dialog_buttons(on_cancel, save_label, on_save),
                spacing="3",
                width="100%",
            ),
            max_width=width,
        ),
        open=open,
    )
