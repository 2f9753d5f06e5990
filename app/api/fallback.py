"""The API and the Reflex backend in one ASGI app, /api answering only in JSON.

Reflex hands its backend (the event websocket, /ping, the compiled pages in
production) to `api_transformer`; `with_reflex_backend` mounts it at "" behind the
API's routes, as Reflex itself would, but through `ApiGuard`: what reaches the mount
under /api is a path no route has (404) or a known path called with the wrong
method (405, with Allow), and is answered in the {error, message} shape instead of
Reflex's plain-text 404. (Starlette only answers 405 when nothing else matches, and
the mount at "" matches everything.)
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_response

API_PREFIX = "/api"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(routes: list[BaseRoute], scope: Scope) -> set[str]:
    """The methods some route (not a mount) fully matches for this path: each
    method is tried through the routes' own `matches`, so nested routers count."""
    allowed: set[str] = set()
    for method in METHODS:
        probe = {**scope, "method": method}
        for route in routes:
            if not isinstance(route, Mount) and route.matches(probe)[0] is Match.FULL:
                allowed.add(method)
                break
    return allowed


class ApiGuard:
    """ASGI: /api requests get a JSON 404/405; everything else goes to `app`."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == API_PREFIX or path.startswith(API_PREFIX + "/")
        ):
            await self.app(scope, receive, send)
            return
        allowed = _allowed_methods(self.api.router.routes, scope)
        if allowed:
            response = error_response(
                405,
                "method_not_allowed",
                f"{scope.get('method', '')} is not allowed here.",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        else:
            response = error_response(404, "not_found", "No such API route.")
        await response(scope, receive, send)


def with_reflex_backend(api: FastAPI, backend: ASGIApp) -> FastAPI:
    """Mount Reflex's `backend` behind every route of `api` (after them all)."""
    api.mount("", ApiGuard(backend, api))
    return api
