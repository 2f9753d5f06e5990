"""The console's properties tab: the list, and one property at a time with its
units and residents, recurring services and service log. Buttons that change
anything are drawn for admins only (the handlers check again)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.auth import error_callout
from components.dialogs import form_dialog
from components.fields import TARGET, check, choice, labelled, options, text_field
from state.properties import (
    NOBODY,
    REPEATS,
    VENDOR,
    WEEKDAY_CHOICES,
    PropertiesState,
)
from state.session import SessionState

# Columns a phone leaves out (the property's page shows them all).
WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")


def hidden_text(text: str) -> rx.Component:
    """Read by screen readers, not drawn (a column header for the buttons)."""
    return rx.el.span(
        text,
        position="absolute",
        width="1px",
        height="1px",
        overflow="hidden",
        clip="rect(0 0 0 0)",
        white_space="nowrap",
    )


def admin_only(child: rx.Component) -> rx.Component:
    return rx.cond(SessionState.is_admin, child)


def state_badge(state: rx.Var) -> rx.Component:
    return rx.cond(
        state == "archived",
        rx.badge("archived", color_scheme="gray", variant="surface"),
        rx.fragment(),
    )


def pager(page: rx.Var, pages: rx.Var, on_move: Any, what: str) -> rx.Component:
    return rx.hstack(
        rx.button(
            "Previous",
            variant="soft",
            disabled=page <= 1,
            on_click=on_move(-1),
            min_height=TARGET,
            aria_label=f"Previous page of {what}",
        ),
        rx.text("Page ", page, " of ", pages, size="2"),
        rx.button(
            "Next",
            variant="soft",
            disabled=page >= pages,
            on_click=on_move(1),
            min_height=TARGET,
            aria_label=f"Next page of {what}",
        ),
        align="center",
        spacing="3",
    )


def section(title: str, *children: rx.Component, action: Any = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4", as_="h2"),
                rx.spacer(),
                action if action is not None else rx.fragment(),
                align="center",
                width="100%",
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# ------------------------------------------------------------------ the list


def list_filters() -> rx.Component:
    return rx.flex(
        rx.box(
            labelled(
                "Search name or address",
                "pr-search",
                rx.debounce_input(
                    rx.input(
                        id="pr-search",
                        type="search",
                        value=PropertiesState.query,
                        on_change=PropertiesState.search,
                        min_height=TARGET,
                        width="100%",
                    ),
                    debounce_timeout=300,
                ),
            ),
            flex="1 1 16em",
        ),
        # The whole row, label included, is the tap target.
        check(
            "Show archived",
            checked=PropertiesState.show_archived,
            on_change=PropertiesState.set_show_archived,
            size="3",
        ),
        admin_only(
            rx.button(
                rx.icon("plus", size=16),
                "Add property",
                on_click=PropertiesState.new_property,
                min_height=TARGET,
                margin_left="auto",
            )
        ),
        gap="4",
        align="end",
        wrap="wrap",
        width="100%",
    )


def property_row(p: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.text(p["name"], weight="medium"),
                    state_badge(p["state"]),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(p["address"], size="1", color_scheme="gray"),
                # On a phone the counts' columns are hidden: one line instead.
                rx.text(
                    p["summary"],
                    size="1",
                    color_scheme="gray",
                    display=rx.breakpoints(initial="block", sm="none"),
                ),
                spacing="0",
            )
        ),
        rx.table.cell(p["units"], display=WIDE_ONLY),
        rx.table.cell(p["residents"], display=WIDE_ONLY),
        rx.table.cell(p["services"], display=WIDE_ONLY),
        rx.table.cell(
            rx.button(
                "Open",
                size="2",
                variant="soft",
                on_click=PropertiesState.open_property(p["id"]),
                min_height=TARGET,
                aria_label="Open " + p["name"].to(str),
            ),
            text_align="right",
        ),
        class_name="property-row",
        align="center",
    )


def property_list() -> rx.Component:
    header = rx.table.header(
        rx.table.row(
            rx.table.column_header_cell("Property"),
            rx.table.column_header_cell("Units", display=WIDE_ONLY),
            rx.table.column_header_cell("Residents", display=WIDE_ONLY),
            rx.table.column_header_cell("Services", display=WIDE_ONLY),
            rx.table.column_header_cell(hidden_text("Actions")),
        )
    )
    return rx.vstack(
        list_filters(),
        rx.text(PropertiesState.total, " properties", size="2", color_scheme="gray"),
        rx.box(
            rx.table.root(
                header,
                rx.table.body(rx.foreach(PropertiesState.rows, property_row)),
                size="2",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.cond(
            PropertiesState.total == 0,
            rx.text("No properties match.", size="2", color_scheme="gray"),
        ),
        pager(
            PropertiesState.page,
            PropertiesState.pages,
            PropertiesState.go_page,
            "properties",
        ),
        spacing="3",
        width="100%",
    )


# ------------------------------------------------------------------ one property


def unit_row(u: rx.Var) -> rx.Component:
    archived = u["state"] == "archived"
    return rx.flex(
        rx.vstack(
            rx.hstack(
                rx.text("Unit ", u["label"], weight="bold"),
                state_badge(u["state"]),
                align="center",
            ),
            rx.text(
                rx.cond(u["residents"] != "", u["residents"], "No residents"),
                size="2",
                color_scheme="gray",
            ),
            spacing="0",
            flex="1 1 12em",
        ),
        admin_only(
            rx.cond(
                PropertiesState.archived,
                rx.fragment(),
                rx.hstack(
                    rx.cond(
                        archived,
                        rx.fragment(),
                        rx.button(
                            "Rename",
                            size="2",
                            variant="soft",
                            on_click=PropertiesState.open_rename(u["id"]),
                            min_height=TARGET,
                            aria_label="Rename unit " + u["label"].to(str),
                        ),
                    ),
                    rx.button(
                        rx.cond(archived, "Restore", "Archive"),
                        size="2",
                        variant="soft",
                        color_scheme=rx.cond(archived, "green", "gray"),
                        # Soft green text is 4.28:1 on its tint (axe wants 4.5).
                        high_contrast=True,
                        on_click=PropertiesState.archive_unit(u["id"], ~archived),
                        min_height=TARGET,
                        aria_label=rx.cond(archived, "Restore", "Archive")
                        + " unit "
                        + u["label"].to(str),
                    ),
                    spacing="2",
                ),
            )
        ),
        gap="2",
        align="center",
        wrap="wrap",
        width="100%",
        padding_y="0.5em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="unit-row",
    )


def add_unit_form() -> rx.Component:
    return admin_only(
        rx.cond(
            PropertiesState.archived,
            rx.fragment(),
            rx.vstack(
                error_callout(PropertiesState.unit_error),
                rx.flex(
                    rx.box(
                        labelled(
                            "New unit",
                            "pr-new-unit",
                            rx.input(
                                id="pr-new-unit",
                                value=PropertiesState.new_unit,
                                on_change=PropertiesState.set_new_unit,
                                placeholder="e.g. 4B",
                                min_height=TARGET,
                                width="100%",
                            ),
                        ),
                        flex="1 1 8em",
                    ),
                    rx.button(
                        "Add unit",
                        on_click=PropertiesState.add_unit,
                        min_height=TARGET,
                    ),
                    gap="2",
                    align="end",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
        )
    )


def units_section() -> rx.Component:
    return section(
        "Units and residents",
        rx.box(rx.foreach(PropertiesState.units, unit_row), width="100%"),
        rx.cond(
            PropertiesState.units.length() == 0,
            rx.text("No units yet.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            PropertiesState.elsewhere != "",
            rx.text(
                "Living here, no unit: ",
                PropertiesState.elsewhere,
                size="2",
            ),
        ),
        add_unit_form(),
    )


def service_card(v: rx.Var) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(v["name"], weight="bold"),
            rx.text(v["when"], size="2"),
            rx.hstack(
                rx.cond(
                    v["kind"] != "",
                    rx.badge(v["kind"], variant="surface"),
                    rx.fragment(),
                ),
                rx.text(v["who"], size="2"),
                align="center",
            ),
            rx.cond(
                v["next"] != "",
                rx.text("Next: ", v["next"], size="1", color_scheme="gray"),
            ),
            spacing="1",
            flex="1 1 12em",
        ),
        admin_only(
            rx.cond(
                PropertiesState.archived,
                rx.fragment(),
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="2",
                        variant="soft",
                        on_click=PropertiesState.edit_service(v["id"]),
                        min_height=TARGET,
                        aria_label="Edit " + v["name"].to(str),
                    ),
                    rx.button(
                        "Remove",
                        size="2",
                        variant="soft",
                        color_scheme="red",
                        on_click=PropertiesState.remove_service(v["id"]),
                        min_height=TARGET,
                        aria_label="Remove " + v["name"].to(str),
                    ),
                    spacing="2",
                ),
            )
        ),
        gap="2",
        align="center",
        wrap="wrap",
        width="100%",
        padding_y="0.5em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="service-row",
    )


def services_section() -> rx.Component:
    return section(
        "Recurring services",
        rx.box(rx.foreach(PropertiesState.services, service_card), width="100%"),
        rx.cond(
            PropertiesState.services.length() == 0,
            rx.text("No recurring services.", size="2", color_scheme="gray"),
        ),
        action=admin_only(
            rx.cond(
                PropertiesState.archived,
                rx.fragment(),
                rx.button(
                    rx.icon("plus", size=16),
                    "Add service",
                    on_click=PropertiesState.new_service,
                    min_height=TARGET,
                ),
            )
        ),
    )


def log_row(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e["at"], white_space="nowrap"),
        rx.table.cell(e["service"]),
        rx.table.cell(e["by"]),
        rx.table.cell(e["note"], display=WIDE_ONLY),
        class_name="log-row",
    )


def log_section() -> rx.Component:
    return section(
        "Service log",
        rx.text(PropertiesState.log_total, " entries, newest first", size="2"),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("When"),
                        rx.table.column_header_cell("Service"),
                        rx.table.column_header_cell("By"),
                        rx.table.column_header_cell("Note", display=WIDE_ONLY),
                    )
                ),
                rx.table.body(rx.foreach(PropertiesState.log, log_row)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        pager(
            PropertiesState.log_page,
            PropertiesState.log_pages,
            PropertiesState.log_go,
            "the service log",
        ),
        action=rx.cond(
            PropertiesState.archived | (PropertiesState.services.length() == 0),
            rx.fragment(),
            rx.button(
                rx.icon("clipboard-check", size=16),
                "Log a service",
                on_click=PropertiesState.new_entry,
                min_height=TARGET,
            ),
        ),
    )


def entry_dialog() -> rx.Component:
    """A recurring service done, recorded by hand (the assistant records the
    same from a chat)."""
    s = PropertiesState
    return form_dialog(
        "Log a service",
        s.entry_error,
        labelled(
            "Service",
            "le-service",
            choice(
                "le-service",
                s.entry_service,
                lambda v: s.set_entry("service", v),
                rx.foreach(
                    s.services, lambda v: rx.select.item(v["name"], value=v["id"])
                ),
            ),
        ),
        labelled(
            "Done at",
            "le-at",
            rx.input(
                id="le-at",
                type="datetime-local",
                value=s.entry_at,
                on_change=lambda v: s.set_entry("at", v),
                min_height=TARGET,
                width="100%",
            ),
        ),
        labelled(
            "Note",
            "le-note",
            rx.text_area(
                id="le-note",
                value=s.entry_note,
                on_change=lambda v: s.set_entry("note", v),
                placeholder="What was done, anything to follow up",
                width="100%",
            ),
        ),
        on_cancel=s.close_entry,
        save_label="Log service",
        on_save=s.save_entry,
        open=s.entry_open,
        width="32em",
    )


def property_header() -> rx.Component:
    archived = PropertiesState.archived
    return rx.vstack(
        rx.button(
            rx.icon("arrow-left", size=16),
            "All properties",
            variant="ghost",
            on_click=PropertiesState.close_property,
            min_height=TARGET,
        ),
        rx.flex(
            rx.vstack(
                rx.hstack(
                    rx.heading(PropertiesState.name, size="5", as_="h2"),
                    rx.cond(archived, rx.badge("archived", color_scheme="gray")),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(PropertiesState.address, size="2", color_scheme="gray"),
                spacing="1",
                flex="1 1 16em",
            ),
            admin_only(
                rx.hstack(
                    rx.cond(
                        archived,
                        rx.fragment(),
                        rx.button(
                            "Edit property",
                            variant="soft",
                            on_click=PropertiesState.edit_property,
                            min_height=TARGET,
                        ),
                    ),
                    rx.button(
                        rx.cond(archived, "Restore property", "Archive property"),
                        variant="soft",
                        color_scheme=rx.cond(archived, "green", "red"),
                        # Soft green text is 4.28:1 on its tint (axe wants 4.5).
                        high_contrast=True,
                        on_click=PropertiesState.archive_property(~archived),
                        min_height=TARGET,
                    ),
                    spacing="2",
                    wrap="wrap",
                )
            ),
            gap="3",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            archived,
            rx.callout(
                "Archived: hidden from the list and not offered to the assistant. "
                "Restore it to make changes.",
                icon="archive",
                color_scheme="gray",
            ),
        ),
        spacing="2",
        width="100%",
        id="property-detail",
    )


def property_page() -> rx.Component:
    return rx.vstack(
        property_header(),
        rx.grid(
            units_section(),
            services_section(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        log_section(),
        spacing="4",
        width="100%",
    )


# ------------------------------------------------------------------ dialogs


def property_dialog() -> rx.Component:
    return form_dialog(
        rx.cond(PropertiesState.prop_id == "", "New property", "Edit property"),
        PropertiesState.prop_error,
        text_field(
            "Name",
            "pr-name",
            PropertiesState.prop_name,
            lambda v: PropertiesState.set_prop("name", v),
        ),
        text_field(
            "Address",
            "pr-address",
            PropertiesState.prop_address,
            lambda v: PropertiesState.set_prop("address", v),
        ),
        on_cancel=PropertiesState.close_prop,
        save_label="Save property",
        on_save=PropertiesState.save_property,
        open=PropertiesState.prop_open,
    )


def rename_dialog() -> rx.Component:
    return form_dialog(
        "Rename unit",
        PropertiesState.rename_error,
        text_field(
            "Unit name",
            "pr-rename",
            PropertiesState.rename_label,
            PropertiesState.set_rename_label,
        ),
        on_cancel=PropertiesState.close_rename,
        save_label="Save",
        on_save=PropertiesState.save_rename,
        open=PropertiesState.rename_open,
        width="24em",
    )


def service_dialog() -> rx.Component:
    s = PropertiesState
    return form_dialog(
        rx.cond(s.svc_id == "", "New service", "Edit service"),
        s.svc_error,
        text_field(
            "Service",
            "sv-name",
            s.svc_name,
            lambda v: s.set_svc("name", v),
        ),
        labelled(
            "Done by",
            "sv-who",
            choice(
                "sv-who",
                s.svc_who,
                lambda v: s.set_svc("who", v),
                rx.select.item("Not assigned", value=NOBODY),
                rx.foreach(
                    s.team_choices,
                    lambda t: rx.select.item("Team: " + t[1], value=t[0]),
                ),
                rx.select.item("An outside vendor", value=VENDOR),
            ),
        ),
        rx.cond(
            s.svc_who == VENDOR,
            text_field(
                "Vendor",
                "sv-vendor",
                s.svc_vendor,
                lambda v: s.set_svc("vendor", v),
            ),
        ),
        rx.grid(
            labelled(
                "Repeats",
                "sv-repeat",
                choice(
                    "sv-repeat",
                    s.svc_repeat,
                    lambda v: s.set_svc("repeat", v),
                    *options(REPEATS.items()),
                ),
            ),
            rx.match(
                s.svc_repeat,
                (
                    "weekly",
                    labelled(
                        "On",
                        "sv-weekday",
                        choice(
                            "sv-weekday",
                            s.svc_weekday,
                            lambda v: s.set_svc("weekday", v),
                            *options(WEEKDAY_CHOICES),
                        ),
                    ),
                ),
                (
                    "monthly",
                    labelled(
                        "Day of the month",
                        "sv-month-day",
                        rx.input(
                            id="sv-month-day",
                            type="number",
                            min="1",
                            max="31",
                            value=s.svc_month_day,
                            on_change=lambda v: s.set_svc("month_day", v),
                            min_height=TARGET,
                            width="100%",
                        ),
                    ),
                ),
                rx.fragment(),
            ),
            labelled(
                "At",
                "sv-time",
                rx.input(
                    id="sv-time",
                    type="time",
                    value=s.svc_time,
                    on_change=lambda v: s.set_svc("time", v),
                    min_height=TARGET,
                    width="100%",
                ),
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="2",
            width="100%",
        ),
        on_cancel=s.close_service,
        save_label="Save service",
        on_save=s.save_service,
        open=s.svc_open,
        width="32em",
    )


def properties_tab() -> rx.Component:
    return rx.box(
        rx.cond(PropertiesState.selected == "", property_list(), property_page()),
        property_dialog(),
        rename_dialog(),
        service_dialog(),
        entry_dialog(),
        width="100%",
    )
