"""Live delivery into an open tab: replies and notifications appear without a reload.

Every signed-in page's on_load runs `LiveState.start_live`, which chains one
background event, `listen`, for this tab. `listen` subscribes to this process's
reader of the tenant's event stream (app/core/live.py `subscribe`: one XREAD BLOCK
on `sb:t:<tenant_id>:events` per process and tenant, fanned out in memory; entries
for this user only) and, for each batch, reloads the affected lists from PostgreSQL
under the state lock; Reflex then sends the delta over the tab's socket.

One listener per tab, and it stops by itself:
- each start bumps `_live_gen`; a listener whose generation is no longer current,
  or which is not the one that claimed it, returns (a page change or a reconnect
  starts a newer one, which continues from the last entry seen: nothing is missed);
- after each batch, and at least every IDLE_CHECK_S, it checks the session like
  any other event (an expired or signed-out session ends it) and that the tab is
  still connected;
- Reflex cancels it with its page-load chain when the tab navigates or disconnects.

The tenant id comes from the verified access token, never from the browser, so a
tab can only ever read its own tenant's stream.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from app.core.live import UserEvent, stream_tail, subscribe
from app.domain.actor import Actor
from state import routes
from state.approvals import ApprovalsState, approval_rows
from state.chat import ChatState, scroll_if_near_end
from state.one_update import event_namespace, send_with_events
from state.requests import RequestsState, request_rows
from state.session import SessionExpired, SessionState, guarded
from state.work import AlertsState, TasksState, task_rows

# Kinds that change the task list or the approvals list as well as the alerts.
TASK_KINDS = frozenset(
    {"task", "task_new", "schedule", "approval_result", "reminder", "request"}
)
APPROVAL_KINDS = frozenset({"approval", "approval_result"})
# Kinds that change the person's chat (a reply, news about a request) and requests.
CHAT_KINDS = frozenset({"reply", "request", "approval_result"})
# Live-only kinds: no alert row behind them.
NO_ALERT_KINDS = frozenset({"reply", "task_new"})
TOAST_CHARS = 140
OK, STOP, EXPIRED = "ok", "stop", "expired"
# How long an idle listener waits before checking its session and socket anyway.
# Every open tab does it, so it is a cost per tab per second (at 5 s, 1,000 idle
# tabs were 200 state locks a second); Reflex cancels a closed tab's listener
# itself, and an access token lives 15 minutes, so a minute is soon enough.
IDLE_CHECK_S = 60.0


def toast_text(ev: UserEvent) -> str:
    """What arrived, in one line: "From Luis Ortega: the walk-in is warm"."""
    preview = str(ev.data.get("preview") or "")
    if not preview or preview in ev.title:
        return ev.title
    text = f"{ev.title}: {preview}"
    return text if len(text) <= TOAST_CHARS else text[: TOAST_CHARS - 1] + "…"


def _alert_ids(events: list[UserEvent]) -> list[uuid.UUID] | None:
    """The notifications these events announce; None when one of them changes the
    inbox without naming a notification (then it is read again in full)."""
    ids = []
    for ev in events:
        if ev.kind in NO_ALERT_KINDS:
            continue
        try:
            ids.append(uuid.UUID(ev.notification_id))
        except ValueError:
            return None
    return ids


def _tab_connected(token: str, sid: str) -> bool:
    """Whether the tab's socket is still open on this backend (True if unknown).

    By the socket's id: one dict lookup (Reflex's token_to_sid builds a copy of
    every open tab's entry on each read, which made each check cost O(open tabs)).
    """
    namespace = event_namespace()
    if namespace is None or not token or not sid:
        return True
    return bool(namespace.sid_to_token.get(sid) == token)


class LiveState(SessionState):
    _live_gen: int = 0
    _live_owner: int = 0
    # The last stream entry this tab has seen ("" = start from the current tail).
    _live_after: str = ""

    @rx.event
    @guarded(quiet=True)
    async def start_live(self, actor: Actor) -> Any:
        self._live_gen += 1
        await self._refresh_unread(actor)
        return LiveState.listen(self._live_gen)  # type: ignore[misc]

    async def _claim(self, gen: int) -> Actor | None:
        """Under the lock: the caller if this listener may run now, else None."""
        if gen != self._live_gen or self._live_owner == gen:
            return None
        try:
            actor = await self._actor()
        except SessionExpired:
            return None
        self._live_owner = gen
        if not self._live_after:
            self._live_after = await stream_tail(actor.tenant_id)
        return actor

    async def _still_current(self, gen: int, actor: Actor) -> str:
        """Under the lock: "ok" to go on (same listener, same signed-in user, tab
        still open), "expired" when the session can no longer be refreshed
        (revoked, user disabled), "stop" otherwise."""
        if gen != self._live_gen or self._live_owner != gen:
            return STOP
        # Before the session check, which may rotate the refresh token: a closed
        # tab would never store the new one and be signed out on its next visit.
        session = self.router.session
        if not _tab_connected(session.client_token, session.session_id):
            return STOP
        try:
            now = await self._actor()
        except SessionExpired:
            return EXPIRED
        if now.user_id != actor.user_id or now.tenant_id != actor.tenant_id:
            return STOP
        return OK

    async def _apply(self, actor: Actor, events: list[UserEvent], page: str) -> None:
        """Under the lock: the unread badge (on every page), and the lists these
        events changed if the tab shows them now. Every page loads its own lists
        when it opens, so the others can wait until then: a team notification
        reaches every member's tab at once, mostly on other pages than the inbox."""
        kinds = {ev.kind for ev in events}
        if kinds & CHAT_KINDS and page == routes.CHAT:
            chat = await self.get_state(ChatState)
            await chat._reload(actor)
        if kinds & CHAT_KINDS and page == routes.REQUESTS:
            mine = await self.get_state(RequestsState)
            mine.requests = await request_rows(actor)
        if kinds - NO_ALERT_KINDS:
            if page == routes.ALERTS:
                alerts = await self.get_state(AlertsState)
                named = _alert_ids(events)
                if named is None:
                    await alerts._reload(actor)
                else:
                    await alerts._arrived(actor, named)
            else:
                await self._refresh_unread(actor)
        if kinds & TASK_KINDS and actor.is_staff and page == routes.TASKS:
            tasks = await self.get_state(TasksState)
            tasks.tasks = await task_rows(actor)
        if kinds & APPROVAL_KINDS and actor.can_approve and page == routes.APPROVALS:
            approvals = await self.get_state(ApprovalsState)
            approvals.approvals = await approval_rows(actor)

    @rx.event(background=True)
    async def listen(self, gen: int) -> AsyncIterator[Any]:
        async with self:
            actor = await self._claim(int(gen))
            after = self._live_after
        if actor is None:
            return
        # Leaving the block (stop, cancel) unsubscribes: the tenant's reader stops
        # with the process's last tab of that tenant.
        async with subscribe(actor.tenant_id, actor.user_id, after) as sub:
            while True:
                after, events = await sub.next_batch(IDLE_CHECK_S)
                async with self:
                    status = await self._still_current(int(gen), actor)
                    if status == EXPIRED:
                        # Signed out elsewhere or disabled: to the sign-in page now
                        # (the draft stays in the tab's sessionStorage).
                        redirect = await self._to_login()
                    elif status == OK:
                        self._live_after = after
                        page = routes.normalize(self._current_path())
                        if events:
                            await self._apply(actor, events, page)
                        on_chat = page == routes.CHAT
                        toasts = [
                            rx.toast.info(toast_text(ev))
                            for ev in events
                            if ev.kind != "reply" and ev.title
                        ]
                        # The rows and their toasts in one message, not two.
                        if await send_with_events(self, toasts):
                            toasts = []
                if status == EXPIRED:
                    yield redirect
                if status != OK:
                    return
                for ev in events:
                    if ev.kind in CHAT_KINDS and on_chat:
                        # After the update: the new message is on the page then.
                        yield scroll_if_near_end()
                for toast in toasts:
                    yield toast
