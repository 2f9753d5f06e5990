"""Web Push subscription of this browser: asked for on a click, refreshed on load.

The browser subscribes with the server's VAPID public key (app/core/secrets.py) and
hands the subscription (endpoint + keys) to `save_subscription`, which stores it for
the signed-in user (app/services/push_subscriptions.py). The push itself is sent by
app/services/push_sender.py and shown by the service worker (assets/sw.js).
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from app.core.secrets import vapid_public_key_b64
from app.domain.actor import Actor
from app.services.push_subscriptions import add_subscription
from state.session import SessionState, guarded

# Filled in with the VAPID key and whether to ask for permission. Resolves to the
# subscription's JSON, null (not asked / not granted) or {"error": ...}.
SUBSCRIBE_JS = """
(async () => {
  const key = %(key)s;
  const ask = %(ask)s;
  if (!('serviceWorker' in navigator) || !('PushManager' in window)
      || !('Notification' in window)) {
    return ask ? {error: 'This browser cannot show push notifications.'} : null;
  }
  let permission = Notification.permission;
  if (permission === 'default' && ask) {
    permission = await Notification.requestPermission();
  }
  if (permission !== 'granted') {
    return ask ? {error: 'Notifications are blocked for this site.'} : null;
  }
  const reg = await navigator.serviceWorker.register('/sw.js', {scope: '/'});
  await navigator.serviceWorker.ready;
  const b64 = key.replace(/-/g, '+').replace(/_/g, '/')
    + '='.repeat((4 - key.length %% 4) %% 4);
  const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  let sub = await reg.pushManager.getSubscription();
  if (sub) {
    const had = new Uint8Array(sub.options.applicationServerKey || []);
    if (had.length !== raw.length || had.some((b, i) => b !== raw[i])) {
      await sub.unsubscribe();
      sub = null;
    }
  }
  if (!sub) {
    sub = await reg.pushManager.subscribe(
      {userVisibleOnly: true, applicationServerKey: raw});
  }
  return sub.toJSON();
})().catch((err) => ({error: String(err && err.message || err)}))
"""


def subscribe_script(public_key: str, ask: bool) -> str:
    return SUBSCRIBE_JS % {
        "key": json.dumps(public_key),
        "ask": "true" if ask else "false",
    }


def subscription_fields(result: Any) -> tuple[str, str, str] | None:
    """(endpoint, p256dh, auth) from what the browser returned, None if unusable."""
    if not isinstance(result, dict):
        return None
    keys = result.get("keys")
    if not isinstance(keys, dict):
        return None
    endpoint, p256dh, auth = (
        result.get("endpoint"),
        keys.get("p256dh"),
        keys.get("auth"),
    )
    if not all(isinstance(v, str) and v for v in (endpoint, p256dh, auth)):
        return None
    return str(endpoint), str(p256dh), str(auth)


class PushState(SessionState):
    push_enabled: bool = False
    push_error: str = ""

    def _script(self, ask: bool) -> Any:
        return rx.call_script(
            subscribe_script(vapid_public_key_b64(), ask),
            callback=PushState.save_subscription,
        )

    @rx.event
    @guarded()
    async def enable_push(self, actor: Actor) -> Any:
        """The button: ask for permission (the browser requires a user gesture)."""
        self.push_error = ""
        return self._script(ask=True)

    @rx.event
    @guarded(quiet=True)
    async def sync_push(self, actor: Actor) -> Any:
        """On load: if this browser already allows notifications, (re)subscribe it
        for whoever is signed in now. Never prompts."""
        return self._script(ask=False)

    @rx.event
    @guarded()
    async def save_subscription(self, actor: Actor, result: Any) -> Any:
        if result is None:
            return None
        if isinstance(result, dict) and result.get("error"):
            self.push_error = str(result["error"])[:200]
            self.push_enabled = False
            return None
        fields = subscription_fields(result)
        if fields is None:
            self.push_error = "The browser returned no usable subscription."
            return None
        await add_subscription(actor, *fields)
        self.push_enabled = True
        self.push_error = ""
        return None
