"""The Reflex app: pages (PWA client and admin console) and the mounted REST API."""

import reflex as rx
from reflex.config import get_config

from app.api import api_with_reflex
from app.core.logs import configure_logging
from app.core.settings import get_settings
from components.pages import register
from components.pwa import head_components

configure_logging(get_settings().log_level)

# Reflex builds its CORS middleware and the websocket's origin check from its config,
# which REFLEX_CORS_ALLOWED_ORIGINS can override: only the settings' allow-list is
# accepted (never "*", which Reflex answers with the caller's origin + credentials).
if tuple(get_config().cors_allowed_origins) != get_settings().allowed_origins:
    raise RuntimeError(
        "Reflex cors_allowed_origins must be the CORS_ORIGINS allow-list "
        f"{get_settings().allowed_origins}, not {get_config().cors_allowed_origins}"
    )

app = rx.App(
    api_transformer=api_with_reflex,
    head_components=head_components(),
    # Top of the screen (at the bottom they would sit on the phone's nav bar and
    # the composer), offset below the page header so they never cover it.
    toaster=rx.toast.provider(
        position="top-center",
        close_button=True,
        offset="4.5rem",
        # Phones (sonner's own offset below 600 px wide): below the header only.
        custom_attrs={"mobileOffset": {"top": "4.5rem"}},
    ),
)
register(app)
