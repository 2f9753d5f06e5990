import os
import sys

import reflex as rx

from app.core.settings import get_settings

_settings = get_settings()
_reflex_redis = os.environ.get("REFLEX_REDIS_URL") or None
# A backend-only process (several behind a proxy, README "Production shape") must
# not name a frontend port: `reflex run --backend-only` refuses to start if it does.
_backend_only = "--backend-only" in sys.argv or os.environ.get(
    "REFLEX_BACKEND_ONLY", ""
).lower() in {"1", "true", "yes"}

config = rx.Config(
    app_name="app",
    frontend_port=None if _backend_only else _settings.frontend_port,
    backend_port=_settings.backend_port,
    api_url=_settings.api_url,
    deploy_url=_settings.public_url,
    telemetry_enabled=False,
    # Reflex puts a CORS middleware (allow_credentials=True) around the backend, the
    # mounted API and the event websocket, from this list; its default "*" would
    # answer any origin with credentials. app/app.py refuses to start otherwise.
    cors_allowed_origins=list(_settings.allowed_origins),
    # Self-hosted: the sticky badge would cover the bottom navigation on phones.
    show_built_with_reflex=False,
    # The app's state lives in Redis when REFLEX_REDIS_URL is set (several backend
    # workers, pushes from other processes); in memory otherwise. Not on disk
    # (Reflex's default): that pickled and wrote a tab's state after every change
    # (a sixth of a live delivery's profile, bench/fanout_sockets.py), to keep
    # what a reconnecting tab rebuilds anyway (its session from the refresh token in
    # localStorage, its pages from their on_load, its draft from sessionStorage).
    redis_url=_reflex_redis,
    state_manager_mode="redis" if _reflex_redis else "memory",
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        ),
    ],
)
