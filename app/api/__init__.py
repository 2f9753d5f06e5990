"""The REST API (FastAPI), mounted into the Reflex backend by api_transformer.

OpenAPI: /api/openapi.json, interactive docs: /api/docs.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from app.api.errors import install_error_handlers
from app.api.fallback import with_reflex_backend
from app.api.health import router as health_router
from app.api.limits import BodySizeLimit
from app.api.metrics import router as metrics_router
from app.api.v1 import router as v1_router
from app.core.settings import get_settings


def create_api() -> FastAPI:
    api = FastAPI(
        title="Switchboard API",
        version="1",
        description=(
            "Multi-tenant assistant platform. Sign in with POST /api/v1/auth/login "
            "and send `Authorization: Bearer <access_token>`; integrations send "
            '`X-API-Key`. Errors are JSON `{"error": code, "message": text}`.'
        ),
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    settings = get_settings()
    install_error_handlers(api)
    api.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # The API's own allow-list, so it holds without Reflex too; Reflex wraps the same
    # list around it (rxconfig.py). A foreign origin, or "null", gets no
    # Access-Control-Allow-Origin header and its preflight is refused.
    api.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    api.include_router(health_router)
    api.include_router(metrics_router)
    api.include_router(v1_router)
    return api


def api_with_reflex(backend: ASGIApp) -> FastAPI:
    """`rx.App(api_transformer=...)`: the API in front of Reflex's backend, /api
    answering only in JSON (app/api/fallback.py)."""
    return with_reflex_backend(create_api(), backend)
