"""The chat page: message list and composer."""

from __future__ import annotations

import reflex as rx

from app.domain.limits import MAX_MESSAGE_CHARS
from components.layout import empty, phone_desktop, shell
from state.chat import SCROLL_TO_END_JS, ChatState

OFFLINE_HINT = "Answered by the small built-in model, not a large AI model."


def action_card(c: rx.Var) -> rx.Component:
    """One thing the assistant did (or could not do), linking to its item."""
    body = rx.hstack(
        rx.icon(c["icon"], size=16, flex_shrink="0"),
        rx.text(c["text"], size="2"),
        spacing="2",
        align="center",
    )
    return rx.box(
        rx.cond(
            c["href"] != "",
            rx.link(
                body,
                href=c["href"],
                underline="hover",
                color_scheme="gray",
                high_contrast=True,
            ),
            body,
        ),
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="10px",
        padding="0.5em 0.75em",
        min_height="44px",
        display="flex",
        align_items="center",
        class_name="action-card",
        data_kind=c["kind"],
    )


def day_separator(m: rx.Var) -> rx.Component:
    return rx.cond(
        m["day"] != "",
        rx.hstack(
            rx.separator(flex="1"),
            rx.text(m["day"], size="1", color_scheme="gray", high_contrast=True),
            rx.separator(flex="1"),
            align="center",
            width="100%",
            class_name="day-separator",
        ),
    )


def message_bubble(m: rx.Var) -> rx.Component:
    mine = m["author"] == "user"
    return rx.fragment(day_separator(m), _bubble(m, mine))


def _bubble(m: rx.Var, mine: rx.Var) -> rx.Component:
    return rx.box(
        rx.box(
            rx.text(m["body"], size="3", white_space="pre-wrap"),
            rx.hstack(
                rx.text(m["at"], size="1", color_scheme="gray"),
                rx.cond(
                    m["offline"] == "1",
                    rx.badge(
                        "small offline model",
                        color_scheme="amber",
                        variant="soft",
                        high_contrast=True,  # 4.5:1 on the soft amber
                        size="1",
                        title=OFFLINE_HINT,
                    ),
                ),
                rx.cond(
                    m["status"] == "failed",
                    rx.badge(
                        "Not processed",
                        color_scheme="red",
                        size="1",
                        high_contrast=True,
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.foreach(
                ChatState.cards,
                lambda c: rx.cond(c["reply_id"] == m["id"], action_card(c)),
            ),
            background_color=rx.cond(mine, rx.color("accent", 3), rx.color("gray", 3)),
            border_radius="12px",
            padding="0.6em 0.9em",
            max_width="85%",
            display="flex",
            flex_direction="column",
            gap="0.5em",
        ),
        display="flex",
        justify_content=rx.cond(mine, "flex-end", "flex-start"),
        width="100%",
        class_name=rx.cond(mine, "msg msg-user", "msg msg-assistant"),
        data_cid=m["cid"],
        data_id=m["id"],
    )


def composer() -> rx.Component:
    """Pinned above the bottom navigation: it never scrolls away with the page."""
    return rx.form(
        rx.hstack(
            rx.text_area(
                name="body",
                value=ChatState.draft,
                on_change=ChatState.set_draft,
                placeholder="Message the assistant…",
                enter_key_submit=True,
                rows="2",
                max_length=MAX_MESSAGE_CHARS,
                flex="1",
                aria_label="Message",
            ),
            rx.button(
                rx.icon("send", size=16),
                "Send",
                type="submit",
                size="3",
                min_height="44px",
            ),
            align="end",
            width="100%",
        ),
        on_submit=ChatState.send,
        width="100%",
        position="sticky",
        bottom=phone_desktop("calc(4.5em + env(safe-area-inset-bottom))", "0"),
        background_color=rx.color("gray", 1),
        padding_y="0.5em",
        z_index="5",
        id="composer",
    )


def jump_to_latest() -> rx.Component:
    """Back to the newest message from far up a long conversation."""
    return rx.button(
        rx.icon("arrow-down", size=16),
        "Latest",
        on_click=rx.call_script(SCROLL_TO_END_JS),
        variant="surface",
        radius="full",
        size="3",
        min_height="44px",
        position="fixed",
        right=phone_desktop("1em", "2em"),
        bottom=phone_desktop("calc(11em + env(safe-area-inset-bottom))", "7em"),
        z_index="6",
        id="jump-to-latest",
        aria_label="Jump to the latest message",
        display="none",  # shown by JUMP_JS when far above the end
        class_name="jump-to-latest",
    )


# Shows the "Latest" button while the page is scrolled well above its end.
JUMP_JS = """
if (!window.sbJump) {
  window.sbJump = () => {
    const b = document.getElementById("jump-to-latest");
    if (!b) return;
    const left = document.documentElement.scrollHeight - (scrollY + innerHeight);
    b.style.display = left > 400 ? "inline-flex" : "none";
  };
  addEventListener("scroll", window.sbJump, {passive: true});
  addEventListener("resize", window.sbJump);
}
"""


def load_older() -> rx.Component:
    """Above the first message while older ones exist: OLDER_JS presses it when the
    page is scrolled near the top; people can press it too (keyboard, screen
    readers)."""
    return rx.cond(
        ChatState.has_older,
        rx.button(
            rx.icon("arrow-up", size=16),
            "Show older messages",
            on_click=ChatState.load_older,
            variant="ghost",
            size="3",
            min_height="44px",
            width="100%",
            id="load-older",
            # Never the element the browser keeps in place while rows go above.
            style={"overflow_anchor": "none"},
        ),
    )


# Older messages load on scroll: near the top of the page, the "Show older
# messages" button is pressed (ChatState.load_older, one page at a time). Before
# that, where the top message sits on screen is noted; once the older page is in
# (KEEP_PLACE_JS), the page is scrolled so that message is where it was, and the
# reader does not jump.
OLDER_JS = """
if (!window.sbOlder) {
  let place = null;
  const first = () => document.querySelector(".msg[data-id]");
  document.addEventListener("click", (e) => {
    if (!e.target.closest || !e.target.closest("#load-older")) return;
    const el = first();
    place = el ? {id: el.dataset.id, top: el.getBoundingClientRect().top,
                  at: Date.now()} : null;
  }, true);
  window.sbKeepPlace = () => {
    const want = place;
    if (!want) return;
    let frames = 0;
    const fix = () => {
      const el = document.querySelector('.msg[data-id="' + want.id + '"]');
      if (el && first() !== el) {
        window.scrollBy(0, el.getBoundingClientRect().top - want.top);
        place = null;
      } else if (++frames < 120) {
        requestAnimationFrame(fix);
      } else {
        place = null;
      }
    };
    fix();
  };
  window.sbOlder = () => {
    const button = document.getElementById("load-older");
    if (!button || scrollY > 300) return;
    if (place && Date.now() - place.at < 5000) return;
    button.click();
  };
  addEventListener("scroll", window.sbOlder, {passive: true});
}
"""


# The offline outbox. A message written with no connection is kept in
# localStorage with its client id (made now, once), shown as a pending bubble, and
# sent through the hidden #outbox-form (ChatState.send_outbox) when the connection
# is back: one at a time, oldest first, again every few seconds until its bubble
# (data-cid) is in the conversation. The server stores a client id once, so
# re-sends after a reconnect or a reload never duplicate a message.
OUTBOX_JS = """
if (!window.sbOutbox) {
  const KEY = "sb_outbox";
  const RESEND_MS = 4000;
  let lastSend = 0;
  const load = () => {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); }
    catch (e) { return []; }
  };
  const save = (items) => localStorage.setItem(KEY, JSON.stringify(items));
  const newId = () => "outbox-" + (crypto.randomUUID
    ? crypto.randomUUID().replace(/-/g, "")
    : Date.now().toString(36) + Math.random().toString(36).slice(2));
  const bubble = (item) => {
    const row = document.createElement("div");
    row.className = "msg msg-user msg-pending";
    row.dataset.pending = item.cid;
    Object.assign(row.style, {
      marginLeft: "auto", marginTop: "0.75em", maxWidth: "85%", width: "fit-content",
      padding: "0.6em 0.9em", borderRadius: "12px", whiteSpace: "pre-wrap",
      border: "1px dashed var(--accent-8)", background: "var(--accent-2)",
      display: "flex", flexDirection: "column", gap: "0.25em",
    });
    const text = document.createElement("div");
    text.className = "msg-pending-body";
    text.textContent = item.body;
    const state = document.createElement("small");
    state.textContent = navigator.onLine ? "Sending…" : "Waiting for a connection";
    state.style.color = "var(--gray-11)";
    row.append(text, state);
    return row;
  };
  window.sbOutbox = () => {
    const banner = document.getElementById("offline-banner");
    if (banner) banner.style.display = navigator.onLine ? "none" : "flex";
    let items = load();
    const sent = items.filter(
      (i) => document.querySelector('[data-cid="' + i.cid + '"]'));
    if (sent.length) {
      items = items.filter((i) => !sent.includes(i));
      save(items);
    }
    const box = document.getElementById("outbox");
    if (box) box.replaceChildren(...items.map(bubble));
    const form = document.getElementById("outbox-form");
    if (items.length && form && navigator.onLine
        && Date.now() - lastSend > RESEND_MS) {
      lastSend = Date.now();
      form.querySelector("[name=cid]").value = items[0].cid;
      form.querySelector("[name=body]").value = items[0].body;
      form.requestSubmit();
    }
  };
  // Before React's own handler: offline, the composer writes to the outbox.
  addEventListener("submit", (e) => {
    if (navigator.onLine || !e.target || e.target.id !== "composer") return;
    e.preventDefault();
    e.stopImmediatePropagation();
    const area = e.target.querySelector("textarea[name=body]");
    const body = ((area && area.value) || "").trim();
    if (!body) return;
    const items = load();
    items.push({cid: newId(), body: body, at: Date.now()});
    save(items);
    if (area) {
      const set = Object.getOwnPropertyDescriptor(
        HTMLTextAreaElement.prototype, "value").set;
      set.call(area, "");
      area.dispatchEvent(new Event("input", {bubbles: true}));
    }
    window.sbOutbox();
  }, true);
  addEventListener("online", () => { lastSend = 0; window.sbOutbox(); });
  addEventListener("offline", () => window.sbOutbox());
  setInterval(window.sbOutbox, 1000);
}
window.sbOutbox();
"""


def outbox() -> rx.Component:
    """Pending bubbles (filled by OUTBOX_JS) and the hidden form that sends them."""
    return rx.fragment(
        rx.box(id="outbox", width="100%", class_name="outbox"),
        rx.form(
            rx.el.input(type="hidden", name="cid"),
            rx.el.input(type="hidden", name="body"),
            on_submit=ChatState.send_outbox,
            id="outbox-form",
            display="none",
        ),
        rx.script(OUTBOX_JS),
    )


def connection_banner() -> rx.Component:
    """Shown by OUTBOX_JS while the browser is offline."""
    return rx.callout(
        "You are offline. Messages you write are kept here and sent when the "
        "connection is back.",
        icon="wifi-off",
        color_scheme="gray",
        high_contrast=True,
        size="1",
        id="offline-banner",
        display="none",
        role="status",
    )


def offline_banner() -> rx.Component:
    return rx.cond(
        ChatState.offline_model,
        rx.callout(
            "The assistant runs on a small offline model: it understands simple "
            "requests (reminders, tasks, notices) and keeps answers short.",
            icon="cpu",
            color_scheme="amber",
            high_contrast=True,  # 4.5:1 on the soft amber
            size="1",
            id="offline-model-banner",
        ),
    )


def chat_page() -> rx.Component:
    return shell(
        "Assistant",
        rx.vstack(
            connection_banner(),
            offline_banner(),
            rx.cond(
                ChatState.messages.length() > 0,
                rx.vstack(
                    load_older(),
                    rx.foreach(ChatState.messages, message_bubble),
                    spacing="3",
                    width="100%",
                ),
                empty("Ask about a repair, a delivery or your schedule."),
            ),
            rx.cond(
                ChatState.waiting_for_reply,
                rx.hstack(
                    rx.spinner(size="1"),
                    rx.text("The assistant is working on it…", size="2"),
                    color_scheme="gray",
                ),
            ),
            outbox(),
            jump_to_latest(),
            rx.script(JUMP_JS),
            rx.script(OLDER_JS),
            composer(),
            spacing="4",
            width="100%",
        ),
    )
