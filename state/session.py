"""The signed-in session and the guard every data-touching event handler goes through.

What lives where:
- The access token (15 minutes) stays on the server, in a backend-only var: the
  browser never sees it.
- The refresh token is the one credential the browser keeps (localStorage), so that a
  reload, a new tab or the installed PWA stays signed in. It is rotated on every use
  (a reused old one revokes the whole family, see app/auth).
- The Actor (tenant, user, role) is never stored: `_actor()` resolves it from the
  access token on every data event, refreshing the pair when it has expired. When
  that is not possible the handler sends the user to the login page; page states
  keep what the user typed (the chat draft), so nothing is lost.

Page states subclass SessionState (Reflex makes them its substates), so logging out
resets every page's data at once.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import reflex as rx
from reflex.event import EventSpec
from reflex.state import BaseState

from app.domain.actor import Actor
from app.domain.errors import DomainError, Unauthorized
from app.domain.roles import ADMIN_ROLES, APPROVER_ROLES, STAFF_ROLES
from app.services import auth as auth_service
from app.services.inbox import unread_count
from state import routes

log = logging.getLogger(__name__)

S = TypeVar("S", bound="SessionState")
Handler = Callable[..., Awaitable[Any]]


FORBIDDEN = "You are not allowed to do that."


class SessionExpired(Exception):
    """No valid access token and no refresh token that still works."""


class SessionState(rx.State):
    """Tokens, the signed-in user's display data, and login/logout."""

    refresh_token: str = rx.LocalStorage("", name="sb_refresh", sync=True)
    # The organisation slug last used, to prefill the login form.
    org_slug: str = rx.LocalStorage("", name="sb_org")
    _access_token: str = ""
    # Who the page data belongs to: a different user signing in on this tab (after
    # an expiry) starts from empty pages, the same user gets their draft back.
    _user_id: str = ""
    user_name: str = ""
    role: str = ""
    login_error: str = ""
    # Where to go after signing in: the page the session expired on, else ""
    # (each role's home, routes.home_for).
    next_path: str = ""
    # Unread notifications, for the badge in the bottom nav (kept current by the
    # alerts page and the live listener, state/live.py).
    unread: int = 0

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.role)

    @rx.var
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @rx.var
    def can_approve(self) -> bool:
        return self.role in APPROVER_ROLES

    @rx.var
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    # ------------------------------------------------------------------ tokens

    async def _session(self) -> SessionState:
        if type(self) is SessionState:
            return self
        return await self.get_state(SessionState)

    def _store(self, pair: Any) -> None:
        self._user_id = str(pair.user_id)
        self._access_token = pair.access_token
        self.refresh_token = pair.refresh_token
        self.user_name = pair.name
        self.role = pair.role

    def _forget(self) -> None:
        self._access_token = ""
        self.refresh_token = ""
        self.user_name = ""
        self.role = ""

    async def _actor(self) -> Actor:
        """The caller, checked now: from the access token, else by refreshing."""
        session = await self._session()
        auth = auth_service
        if session._access_token:
            try:
                actor: Actor = auth.actor_from_access_token(session._access_token)
                if session.role != actor.role:
                    # Only on a change: an assignment is sent to the tab (with the
                    # four vars computed from it) even when the value is the same,
                    # and this runs on every event and live delivery.
                    session.role = actor.role
                return actor
            except Unauthorized:
                session._access_token = ""
        if not session.refresh_token:
            session._forget()
            raise SessionExpired
        try:
            pair = await auth.refresh(session.refresh_token)
        except DomainError as exc:
            log.info("session refresh refused: %s", exc.message)
            session._forget()
            raise SessionExpired from exc
        session._store(pair)
        actor = auth.actor_from_access_token(pair.access_token)
        return actor

    def _current_path(self) -> str:
        try:
            return str(self.router.url.path) or routes.CHAT
        except AttributeError:
            return routes.CHAT

    async def _to_login(self) -> EventSpec:
        """Send the user to the login page, remembering where they were."""
        session = await self._session()
        session.next_path = routes.safe_next(self._current_path())
        return rx.redirect(routes.LOGIN)

    # ------------------------------------------------------------------ events

    @rx.event
    async def login(self, form: dict[str, Any]) -> Any:
        slug = str(form.get("org", "")).strip().lower()
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        if not (slug and email and password):
            self.login_error = "Enter your organisation, email and password."
            return None
        try:
            pair = await auth_service.login(
                slug, email, password, self.router.session.client_ip or "reflex"
            )
        except DomainError as exc:
            self.login_error = exc.message
            return None
        if self._user_id and self._user_id != str(pair.user_id):
            await self._reset_all()
        self.login_error = ""
        self.org_slug = slug
        self._store(pair)
        dest = (
            routes.safe_next(self.next_path)
            if self.next_path
            else routes.home_for(pair.role)
        )
        self.next_path = ""
        return rx.redirect(dest)

    async def _refresh_unread(self, actor: Actor) -> None:
        session = await self._session()
        session.unread = await unread_count(actor)

    async def _reset_all(self) -> None:
        """Forget the user and every page's data (all substates, loaded or not)."""
        session = await self._session()
        slug = session.org_slug
        session.reset()
        for cls in _page_states():
            (await session.get_state(cls)).reset()
        session.org_slug = slug

    @rx.event
    async def logout(self) -> Any:
        session = await self._session()
        token = session.refresh_token
        if token:
            with contextlib.suppress(DomainError):
                await auth_service.logout(token)
        # Also ends this tab's live listener: it finds no session on its next turn.
        await self._reset_all()
        return rx.redirect(routes.LOGIN)


def _page_states() -> list[type[BaseState]]:
    """Every state class below SessionState (the page states)."""
    found: list[type[BaseState]] = []
    pending = list(SessionState.get_substates())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.get_substates())
    return found


def _strip_actor(fn: Handler) -> inspect.Signature:
    sig = inspect.signature(fn)
    params = [p for name, p in sig.parameters.items() if name != "actor"]
    return sig.replace(parameters=params, return_annotation=inspect.Signature.empty)


def guarded(
    *roles: str, quiet: bool = False, quiet_role: bool = False
) -> Callable[[Handler], Handler]:
    """Wrap an event handler `fn(self, actor, *args)`: resolve and check the caller.

    - no valid session: redirect to login (page state, e.g. the draft, is kept);
      `quiet` handlers (background helpers run beside a page's data load, which
      redirects already) just do nothing;
    - role not in `roles` (when given): a toast, nothing is read or changed
      (`quiet_role`: no toast either, for a page's load whose page itself says
      "not available for your role");
    - a DomainError from the services (NotFound for another tenant's id...): a toast.
    """
    allowed = frozenset(roles)

    def decorate(fn: Handler) -> Handler:
        # Reflex passes the event's arguments by name (`fn(state, **payload)`).
        async def wrapper(self: SessionState, *args: Any, **kwargs: Any) -> Any:
            try:
                actor = await self._actor()
            except SessionExpired:
                return None if quiet else await self._to_login()
            if allowed and actor.role not in allowed:
                return None if quiet or quiet_role else rx.toast.error(FORBIDDEN)
            try:
                return await fn(self, actor, *args, **kwargs)
            except DomainError as exc:
                return rx.toast.error(exc.message)

        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        wrapper.__module__ = fn.__module__
        wrapper.__signature__ = _strip_actor(fn)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            k: v for k, v in fn.__annotations__.items() if k not in ("actor", "return")
        }
        wrapper.sb_guarded = allowed  # type: ignore[attr-defined]
        wrapper.sb_inner = fn  # type: ignore[attr-defined]
        return wrapper

    return decorate
