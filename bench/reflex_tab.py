"""An open tab of the app without a browser: Reflex's socket protocol, as its
frontend speaks it (reflex_base/.templates/web/utils/state.js).

A tab connects to the backend's event socket (socket.io, path /_event, websocket
transport) with its own client token in the query string and, in the CONNECT
packet, the boot event the frontend sends: `hydrate_and_load` carrying the
browser's storage (here the signed-in session's refresh token, the one credential
a browser keeps) and the page's route. The backend then runs the page's on_load,
which for every signed-in page starts the live listener (state/live.py). What the
backend sends back are state updates ({"delta", "events", "final"}); a toast is an
event calling the page's toast function with its text.

Used by `bench/fanout_sockets.py` (many tabs on one backend) and
`tests/stack/test_scale_out.py` (tabs on several backends).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import socketio
from reflex.state import State
from reflex_base.constants.state import FIELD_MARKER

from state.session import SessionState

NAMESPACE = "/_event"
# The var names the frontend keys browser storage by (reflex's compiler builds the
# same: "<state's full name>.<field>" + FIELD_MARKER).
REFRESH_TOKEN_VAR = f"{SessionState.get_full_name()}.refresh_token{FIELD_MARKER}"
HYDRATE_AND_LOAD = f"{State.get_full_name()}.hydrate_and_load"

# Called with the time an update arrived (time.time(), s) and the update.
OnUpdate = Callable[[float, dict[str, Any]], None]


def boot_event(refresh_token: str, path: str) -> dict[str, Any]:
    """The frontend's first event on a (re)connect: browser storage + route."""
    return {
        "name": HYDRATE_AND_LOAD,
        "payload": {"vars": {REFRESH_TOKEN_VAR: refresh_token}},
        "router_data": {"pathname": path, "asPath": path},
    }


def toasts(update: dict[str, Any]) -> list[str]:
    """The toast calls in a state update (the function source, with its text)."""
    return [
        str(ev.get("payload", {}).get("function", ""))
        for ev in update.get("events") or ()
        if ev.get("name") == "_call_function"
        and "__toast" in str(ev.get("payload", {}).get("function", ""))
    ]


class ReflexTab:
    """One open page, connected to one backend. With a refresh token it boots
    signed in, as a reload does; without one it is a fresh tab (sign in with
    `send`). `token` reuses another tab's client token: that tab reconnecting."""

    def __init__(
        self, base_url: str, refresh_token: str = "", path: str = "/", token: str = ""
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.refresh_token = refresh_token
        self.path = path
        self.token = token or str(uuid.uuid4())  # the tab's client token
        self.hydrated = False
        self.on_update: OnUpdate | None = None
        self._sio = socketio.AsyncClient(reconnection=False)
        self._sio.on("event", self._received, namespace=NAMESPACE)

    async def _received(self, update: dict[str, Any]) -> None:
        at = time.time()
        root = (update.get("delta") or {}).get(State.get_full_name()) or {}
        if root.get(f"is_hydrated{FIELD_MARKER}") is True:
            self.hydrated = True
        if self.on_update is not None:
            self.on_update(at, update)

    async def open(self, timeout_s: float = 30.0) -> None:
        boot = boot_event(self.refresh_token, self.path) if self.refresh_token else None
        await self._sio.connect(
            f"{self.base_url}?token={self.token}",
            socketio_path=NAMESPACE,
            namespaces=[NAMESPACE],
            transports=["websocket"],
            auth={"event": boot} if boot else None,
            wait_timeout=timeout_s,
        )

    async def send(self, handler: str, **payload: Any) -> None:
        """An event, as the page's buttons and forms send one."""
        await self._sio.emit(
            "event",
            {
                "name": handler,
                "payload": payload,
                "router_data": {"pathname": self.path, "asPath": self.path},
            },
            namespace=NAMESPACE,
        )

    async def close(self) -> None:
        await self._sio.disconnect()
