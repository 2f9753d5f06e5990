"""Form pieces every page shares, so each control has a visible label bound to it
and a finger-sized target.

`rx.text(..., as_="label", html_for=...)` renders a <label> without its `for`:
the control gets no name (axe "label", "button-name"). Labels here are real
<label for> elements.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import reflex as rx
from reflex_components_radix.themes.components.checkbox import Checkbox

TARGET = "44px"  # minimum height of anything a finger taps


def field_label(text: str | rx.Var, ident: str) -> rx.Component:
    return rx.el.label(rx.text(text, size="2", weight="medium"), html_for=ident)


def labelled(text: str | rx.Var, ident: str, control: rx.Component) -> rx.Component:
    """A label above its control (`ident` is the control's id)."""
    return rx.vstack(field_label(text, ident), control, spacing="1", width="100%")


def text_field(
    label: str | rx.Var, ident: str, value: rx.Var, on_change: Any, **props: Any
) -> rx.Component:
    """A labelled one-line input."""
    return labelled(
        label,
        ident,
        rx.input(
            id=ident,
            value=value,
            on_change=on_change,
            min_height=TARGET,
            width="100%",
            **props,
        ),
    )


def choice(ident: str, value: rx.Var, on_change: Any, *items: Any) -> rx.Component:
    """A select whose trigger carries `ident` (the id its label points at)."""
    return rx.select.root(
        rx.select.trigger(id=ident, min_height=TARGET, width="100%"),
        rx.select.content(*items),
        value=value,
        on_change=on_change,
    )


def options(pairs: Iterable[tuple[str, str]]) -> list[rx.Component]:
    """Select items from (value, text) pairs known when the page is built."""
    return [rx.select.item(text, value=value) for value, text in pairs]


def var_options(pairs: rx.Var) -> rx.Component:
    """Select items from a state list of [value, text] pairs."""
    return rx.foreach(pairs, lambda p: rx.select.item(p[1], value=p[0]))


def text_link(label: str | rx.Var, href: str, **props: Any) -> rx.Component:
    """A link standing on its own (not inside a sentence): 44 px to tap."""
    return rx.link(
        label,
        href=href,
        size="2",
        min_height=TARGET,
        display="inline-flex",
        align_items="center",
        **props,
    )


def check(text: str | rx.Var, **props: Any) -> rx.Component:
    """A checkbox whose whole row, label text included, is the tap target
    (rx.checkbox's label is only as tall as its text)."""
    size = props.pop("size", "2")
    return rx.el.label(
        Checkbox.create(size=size, **props),
        rx.text(text, size="2"),
        display="flex",
        align_items="center",
        gap="0.5em",
        min_height=TARGET,
        cursor="pointer",
    )
