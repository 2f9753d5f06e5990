"""The REST API (FastAPI), mounted into the Reflex backend by api_transformer."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.errors import install_error_handlers
from app.api.health import router as health_router


def create_api() -> FastAPI:
    api = FastAPI(
        title="Switchboard API",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(api)
    api.include_router(health_router)
    return api
