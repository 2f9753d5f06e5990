"""The chat page: the user's conversation with the assistant and the composer."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import reflex as rx

from app.core import rate_limit
from app.core.settings import get_settings
from app.domain.actor import Actor
from app.domain.limits import MAX_MESSAGE_CHARS
from app.domain.models import Message
from app.services import console
from app.services.action_cards import action_cards
from app.services.conversation import MAX_WINDOW, PAGE_SIZE, conversation_page
from app.services.messages import submit_message
from state.format import day_label, item_href, local, parse_id, text
from state.session import SessionExpired, SessionState, guarded

PENDING = frozenset({"received", "queued", "processing"})
# The built-in models are served by litellm under this prefix (agents/provider.py).
OFFLINE_MODEL_PREFIX = "switchboard/"
# Replies arrive live (state/live.py); this slow poll only covers a lost event.
POLL_INTERVAL_S = 3.0
POLL_ROUNDS = 30
# Client ids of messages written offline (components/chat.py OUTBOX_JS).
OUTBOX_PREFIX = "outbox-"


# After loading or sending: show the newest message (the composer is below it).
# Again after the next frame and a moment later: the rows the same update brought
# may not be laid out yet when the script runs.
SCROLL_TO_END_JS = (
    "(() => {const end = () => window.scrollTo("
    "{top: document.documentElement.scrollHeight});"
    " end(); requestAnimationFrame(end); setTimeout(end, 200);})()"
)


# A live update (a reply, news about a request) shows the newest message only
# when the person is already near it, not while they read older ones.
SCROLL_IF_NEAR_END_JS = (
    "if (document.documentElement.scrollHeight - (scrollY + innerHeight) < 400)"
    " {requestAnimationFrame(() => window.scrollTo("
    "{top: document.body.scrollHeight}))}"
)
# After an older page is put above: components/chat.py OLDER_JS.
KEEP_PLACE_JS = "window.sbKeepPlace && window.sbKeepPlace()"


def scroll_to_end() -> Any:
    return rx.call_script(SCROLL_TO_END_JS)


def scroll_if_near_end() -> Any:
    return rx.call_script(SCROLL_IF_NEAR_END_JS)


def offline_model_configured() -> bool:
    """Whether this deployment answers with the small built-in offline model."""
    return get_settings().llm_model.startswith(OFFLINE_MODEL_PREFIX)


async def conversation_rows(
    actor: Actor, messages: list[Message]
) -> list[dict[str, str]]:
    """Messages (oldest first) as rows for the message list."""
    zone = await console.tenant_zone(actor)
    models = await console.reply_models(
        actor, [m.reply_to_id for m in messages if m.reply_to_id is not None]
    )
    return [
        {
            "id": str(m.id),
            # The browser's own id: an outbox entry is sent once it shows here.
            "cid": m.client_message_id if m.author == "user" else "",
            "author": text(m.author),
            "body": m.body,
            "status": text(m.status),
            "at": local(m.created_at, zone),
            "offline": (
                "1"
                if models.get(m.reply_to_id, "").startswith(OFFLINE_MODEL_PREFIX)
                else ""
            )
            if m.reply_to_id
            else "",
            "date": day_label(m.created_at, zone),
            "day": "",
        }
        for m in messages
    ]


def with_day_separators(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """A separator above the first message of each day (recomputed when an older
    page is put in front of what is on screen)."""
    previous = ""
    out = []
    for row in rows:
        out.append({**row, "day": row["date"] if row["date"] != previous else ""})
        previous = row["date"]
    return out


CARD_ICONS = {
    "task": "list-checks",
    "linked": "link",
    "notified": "bell",
    "scheduled": "calendar",
    "cancelled": "calendar-x",
    "waiting": "hourglass",
    "refused": "ban",
    "declined": "x",
    "expired": "clock",
    "failed": "triangle-alert",
}


async def chat_rows(
    actor: Actor, messages: list[Message]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """These messages as rows, and the action cards that go under each reply."""
    zone = await console.tenant_zone(actor)
    replies = {m.reply_to_id: str(m.id) for m in messages if m.reply_to_id}
    cards = [
        {
            "reply_id": replies[c.message_id],
            "kind": c.kind,
            "icon": CARD_ICONS.get(c.kind, "check"),
            "text": c.text,
            "href": item_href(actor, c.task_id, c.kind),
        }
        for c in await action_cards(actor, list(replies), zone)
        if c.message_id in replies
    ]
    return await conversation_rows(actor, messages), cards


class ChatState(SessionState):
    # Kept in the tab's sessionStorage as well as here: an expired session, a
    # reload or a restarted backend does not lose what the user typed.
    draft: str = rx.SessionStorage("", name="sb_draft")
    messages: list[dict[str, str]] = []
    # What the assistant did, under its replies (reply_id, kind, icon, text, href).
    cards: list[dict[str, str]] = []
    # Shown as a banner: people should know they are not talking to a large model.
    offline_model: bool = offline_model_configured()
    # The client message id of the text last sent (or being sent). A second submit
    # of the same text (a double click, a retry after an error or an expired
    # session) reuses it, so the server stores the message once; typing anything
    # else starts a new id.
    _pending_client_id: str = ""
    _pending_body: str = ""
    _poll_gen: int = 0
    # Older messages exist above the first one shown (loaded on scroll).
    has_older: bool = False

    @rx.var
    def waiting_for_reply(self) -> bool:
        return bool(self.messages) and (
            self.messages[-1]["author"] == "user"
            and self.messages[-1]["status"] in PENDING
        )

    @rx.event
    def set_draft(self, value: str) -> None:
        self.draft = str(value)[:MAX_MESSAGE_CHARS]
        if self.draft.strip() != self._pending_body:
            self._pending_client_id = ""

    def _client_id_for(self, body: str) -> str:
        if not self._pending_client_id or body != self._pending_body:
            self._pending_client_id = f"web-{uuid.uuid4().hex}"
            self._pending_body = body
        return self._pending_client_id

    async def _reload(self, actor: Actor) -> None:
        """Refresh what is on screen: from its oldest message to the newest (a
        chat scrolled far back keeps its place)."""
        since = parse_id(self.messages[0]["id"]) if self.messages else None
        page = await conversation_page(
            actor, since=since, limit=MAX_WINDOW if since else PAGE_SIZE
        )
        rows, self.cards = await chat_rows(actor, page.messages)
        self.messages = with_day_separators(rows)
        self.has_older = page.more

    @rx.event
    @guarded()
    async def load(self, actor: Actor) -> Any:
        self.offline_model = offline_model_configured()
        self.messages = []  # a chat opens at its newest page
        await self._reload(actor)
        if self.waiting_for_reply:
            self._poll_gen += 1
            return [scroll_to_end(), ChatState.poll_replies(self._poll_gen)]  # type: ignore[misc]
        return scroll_to_end()

    @rx.event
    @guarded()
    async def send(self, actor: Actor, form: dict[str, Any]) -> Any:
        # The form's field is what is on screen (the draft var may trail typing).
        body = str(form.get("body") or self.draft).strip()[:MAX_MESSAGE_CHARS]
        if not body:
            return None
        self.draft = body
        # The same per-user limit as POST /api/v1/messages (a toast says when to
        # retry; the draft stays).
        await rate_limit.check_message_submit(actor.tenant_id, actor.user_id)
        await submit_message(actor, body, self._client_id_for(body), source="chat")
        self.draft = ""
        await self._reload(actor)
        self._poll_gen += 1
        return [scroll_to_end(), ChatState.poll_replies(self._poll_gen)]  # type: ignore[misc]

    @rx.event
    @guarded()
    async def send_outbox(self, actor: Actor, form: dict[str, Any]) -> Any:
        """A message written while offline, kept in the browser's outbox with the
        id it got when it was written: however often it is re-sent (reconnects,
        reloads), the server stores it once."""
        cid = str(form.get("cid") or "")
        body = str(form.get("body") or "").strip()[:MAX_MESSAGE_CHARS]
        if not body or not cid.startswith(OUTBOX_PREFIX) or len(cid) > 100:
            return None
        await rate_limit.check_message_submit(actor.tenant_id, actor.user_id)
        await submit_message(actor, body, cid, source="chat")
        await self._reload(actor)
        self._poll_gen += 1
        return [scroll_to_end(), ChatState.poll_replies(self._poll_gen)]  # type: ignore[misc]

    @rx.event
    @guarded()
    async def load_older(self, actor: Actor) -> Any:
        """The page above the first message shown (the person scrolled up)."""
        if not self.messages or not self.has_older:
            return None
        page = await conversation_page(actor, before=parse_id(self.messages[0]["id"]))
        rows, cards = await chat_rows(actor, page.messages)
        self.messages = with_day_separators(rows + self.messages)
        self.cards = cards + self.cards
        self.has_older = page.more
        # The message that was on top stays where it was on screen.
        return rx.call_script(KEEP_PLACE_JS)

    @rx.event(background=True)
    async def poll_replies(self, gen: int) -> None:
        """Refresh the list until the assistant has answered (or a while passed).

        Only the newest poller of the tab runs; the session is checked each round.
        """
        for _ in range(POLL_ROUNDS):
            await asyncio.sleep(POLL_INTERVAL_S)
            async with self:
                if int(gen) != self._poll_gen:
                    return
                try:
                    actor = await self._actor()
                except SessionExpired:
                    return
                await self._reload(actor)
                if not self.waiting_for_reply:
                    return
