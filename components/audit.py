"""The audit tab (recent messages, the filtered audit log) and the audit chain page
of one message."""

from __future__ import annotations

import reflex as rx

from components.fields import (
    TARGET,
    choice,
    field_label,
    labelled,
    options,
    var_options,
)
from components.gate import admin_only, console_frame
from state.audit import ANY, TYPE_CHOICES, VERDICT_LABELS, AuditState, ChainState


def _select(
    label: str, name: str, value: rx.Var, items: list[tuple[str, str]]
) -> rx.Component:
    return labelled(
        label,
        f"f-{name}",
        choice(
            f"f-{name}",
            value,
            lambda v: AuditState.set_filter(name, v),
            *options(items),
        ),
    )


def _people_select() -> rx.Component:
    return labelled(
        "User",
        "f-user",
        choice(
            "f-user",
            AuditState.f_user,
            lambda v: AuditState.set_filter("user", v),
            rx.select.item("Anyone", value=ANY),
            var_options(AuditState.people),
        ),
    )


def _date(label: str, name: str, value: rx.Var) -> rx.Component:
    return rx.vstack(
        field_label(label, f"f-{name}"),
        rx.input(
            id=f"f-{name}",
            type="date",
            value=value,
            on_change=lambda v: AuditState.set_filter(name, v),
            min_height=TARGET,
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def filters() -> rx.Component:
    return rx.grid(
        _people_select(),
        _select(
            "Action type",
            "type",
            AuditState.f_type,
            [
                (t, "Any type" if t == ANY else t.replace("_", " "))
                for t in TYPE_CHOICES
            ],
        ),
        _select(
            "Verdict", "verdict", AuditState.f_verdict, list(VERDICT_LABELS.items())
        ),
        _date("From", "from", AuditState.f_from),
        _date("To", "to", AuditState.f_to),
        columns=rx.breakpoints(initial="2", md="5"),
        spacing="2",
        width="100%",
    )


def _chain_link(href: rx.Var, label: rx.Var | str) -> rx.Component:
    return rx.cond(
        href != "",
        rx.link(
            label,
            href=href,
            class_name="chain-link",
            min_height=TARGET,
            display="inline-flex",
            align_items="center",
        ),
        rx.text(label),
    )


def audit_entry(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e["at"], white_space="nowrap"),
        rx.table.cell(e["actor"]),
        rx.table.cell(e["kind"]),
        rx.table.cell(_chain_link(e["href"], e["subject"])),
        rx.table.cell(e["verdict"]),
        rx.table.cell(e["reason"]),
        class_name="audit-row",
    )


def _table(headers: list[str], body: rx.Component) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in headers])
            ),
            body,
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def message_row(m: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(m["at"], white_space="nowrap"),
        rx.table.cell(m["sender"]),
        rx.table.cell(_chain_link(m["href"], m["body"])),
        rx.table.cell(m["status"]),
        rx.table.cell(m["actions"]),
        class_name="message-row",
    )


def audit_tab() -> rx.Component:
    return rx.vstack(
        rx.heading("Recent messages", size="4", as_="h2"),
        rx.text(
            "Open a message to see its whole chain: memories, model calls, "
            "actions, verdicts, approvals and notifications.",
            size="2",
            color_scheme="gray",
        ),
        _table(
            ["When", "From", "Message", "Status", "Actions"],
            rx.table.body(rx.foreach(AuditState.messages, message_row)),
        ),
        rx.heading("Audit log", size="4", as_="h2"),
        filters(),
        rx.hstack(
            rx.text(AuditState.total, " events", size="2"),
            rx.spacer(),
            rx.button(
                "Clear filters",
                variant="soft",
                on_click=AuditState.clear_filters,
                min_height=TARGET,
            ),
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                variant="soft",
                on_click=AuditState.export_csv,
                min_height=TARGET,
            ),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        _table(
            ["When", "Who", "Event", "About", "Verdict", "Reason"],
            rx.table.body(rx.foreach(AuditState.entries, audit_entry)),
        ),
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                disabled=AuditState.page <= 1,
                on_click=AuditState.go_page(-1),
                min_height=TARGET,
            ),
            rx.text("Page ", AuditState.page, " of ", AuditState.pages, size="2"),
            rx.button(
                "Next",
                variant="soft",
                disabled=AuditState.page >= AuditState.pages,
                on_click=AuditState.go_page(1),
                min_height=TARGET,
            ),
            align="center",
            spacing="3",
        ),
        spacing="3",
        width="100%",
    )


# ------------------------------------------------------------------ chain page


def section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3", as_="h2"), *children, spacing="2", width="100%"
        ),
        width="100%",
    )


def field(label: str, value: rx.Var | str) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", min_width="7em"),
        rx.text(value, size="2", word_break="break-word"),
        align="start",
        width="100%",
    )


def code(value: rx.Var) -> rx.Component:
    return rx.code_block(
        value,
        language="json",
        width="100%",
        font_size="12px",
        wrap_long_lines=True,
    )


def action_card(a: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("#", a["n"], " ", a["type"], weight="bold"),
                rx.spacer(),
                rx.badge(a["decision"]),
                rx.badge(a["status"], variant="outline"),
                width="100%",
                wrap="wrap",
            ),
            rx.cond(a["reason"] != "", field("Reason", a["reason"])),
            code(a["payload"]),
            field("Payload hash", a["hash"]),
            rx.cond(
                a["approval"] != "",
                rx.vstack(
                    rx.text("Approval", weight="medium", size="2"),
                    field("Status", a["approval"]),
                    field("Needs role", a["approval_role"]),
                    field("Decided by", a["approval_by"]),
                    field("Decided at", a["approval_at"]),
                    field("Approved hash", a["approval_hash"]),
                    field("Payload now", a["hash_ok"]),
                    spacing="1",
                    width="100%",
                    class_name="approval",
                ),
            ),
            rx.cond(
                a["result"] != "",
                rx.vstack(
                    rx.text("Result (", a["executed"], ")", weight="medium", size="2"),
                    code(a["result"]),
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="chain-action",
    )


def _rows(headers: list[str], keys: list[str], rows: rx.Var) -> rx.Component:
    return _table(
        headers,
        rx.table.body(
            rx.foreach(
                rows, lambda r: rx.table.row(*[rx.table.cell(r[k]) for k in keys])
            )
        ),
    )


def prompt_block() -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.cond(ChainState.show_prompt, "Hide prompt", "Show prompt"),
            variant="soft",
            on_click=ChainState.toggle_prompt,
            min_height=TARGET,
        ),
        rx.cond(
            ChainState.show_prompt,
            rx.foreach(
                ChainState.prompt,
                lambda m: rx.vstack(
                    rx.badge(m["role"]),
                    rx.code_block(
                        m["content"],
                        language="markdown",
                        width="100%",
                        font_size="12px",
                        wrap_long_lines=True,
                    ),
                    width="100%",
                ),
            ),
        ),
        width="100%",
    )


def chain_body() -> rx.Component:
    m = ChainState.message
    return rx.vstack(
        section(
            "Message",
            rx.blockquote(m["body"], class_name="chain-body"),
            field("From", m["sender"] + " (" + m["role"] + ")"),
            field("Sent", m["at"]),
            field("Channel", m["source"]),
            field("Status", m["status"]),
            field("Reply", m["reply"]),
            rx.cond(m["error"] != "", field("Error", m["error"])),
        ),
        section(
            "Memories retrieved",
            rx.cond(
                m["withheld"] != "",
                rx.callout(
                    "Withheld: the organisation's data policy kept memory content "
                    "out of the external model's prompt.",
                    icon="shield",
                    color_scheme="amber",
                    class_name="withheld",
                ),
            ),
            rx.cond(
                ChainState.memories.length() > 0,
                _rows(
                    ["Scope", "Score", "Source", "Text"],
                    ["scope", "score", "source", "text"],
                    ChainState.memories,
                ),
                rx.text("None.", size="2", color_scheme="gray"),
            ),
        ),
        section(
            "Model calls",
            field("Run", m["run"]),
            _rows(
                ["Purpose", "Model", "Tokens (in + out)", "Cost", "Latency"],
                ["purpose", "model", "tokens", "cost", "latency"],
                ChainState.calls,
            ),
            rx.cond(m["has_prompt"] != "", prompt_block()),
        ),
        section(
            "Proposed actions",
            rx.cond(
                ChainState.actions.length() > 0,
                rx.vstack(
                    rx.foreach(ChainState.actions, action_card),
                    width="100%",
                ),
                rx.text("None.", size="2", color_scheme="gray"),
            ),
        ),
        section(
            "Notifications",
            _rows(
                ["To", "Kind", "Title", "Sent", "Pushed", "Read"],
                ["to", "kind", "title", "at", "pushed", "read"],
                ChainState.notifications,
            ),
        ),
        section(
            "Audit events",
            _rows(
                ["When (UTC)", "Who", "Event"],
                ["at", "actor", "kind"],
                ChainState.events,
            ),
        ),
        spacing="3",
        width="100%",
    )


def chain_page() -> rx.Component:
    return admin_only(
        console_frame(
            "Audit chain",
            rx.cond(
                ChainState.found,
                chain_body(),
                rx.cond(
                    ChainState.loaded,
                    rx.text(
                        "Nothing to show: this message is not in your organisation.",
                        color_scheme="gray",
                    ),
                    rx.spinner(),
                ),
            ),
        )
    )
