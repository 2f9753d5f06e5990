"""A background task's state changes and its frontend events in one socket message.

Reflex sends what a background task changed when its `async with self` block ends,
and each event it yields after that as a message of its own. For a live delivery
(the inbox row or badge, then its toast) that is two messages per tab, and under a
team-wide fan-out every tab's second one waits behind the other tabs' first: the
toast, the part a person notices, came last. `send_with_events` sends both as one
update, as the frontend already handles them (reflex's state.js applies an update's
delta, then queues its events).

It uses the same steps as Reflex's own block exit (reflex/istate/proxy.py
`StateProxy.__aexit__`: resolve the delta, clean, emit), checked in the pinned
version; the block's exit then finds nothing left to send.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reflex.event import EventSpec
from reflex.state import StateUpdate
from reflex.utils.prerequisites import get_and_validate_app
from reflex_base.event import Event
from reflex_base.event.context import EventContext


def event_namespace() -> Any | None:
    """This backend's socket namespace (None outside a running app)."""
    try:
        return get_and_validate_app().app.event_namespace
    except Exception:
        return None


async def send_with_events(state: Any, events: Sequence[EventSpec]) -> bool:
    """Inside a background task's `async with self`: send this tab the state's
    changes so far together with `events` (frontend events only: toasts, scripts).
    False, with nothing sent, when there is no socket to send on; the caller then
    yields the events after the block as usual."""
    namespace = event_namespace()
    if namespace is None or not events:
        return False
    root = state.__wrapped__._get_root_state()
    delta = await root._get_resolved_delta()
    root._clean()
    update = StateUpdate(delta=delta, events=Event.from_event_type(list(events)))
    await namespace.emit_update(update, EventContext.get().token)
    return True
