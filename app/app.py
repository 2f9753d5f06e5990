"""The Reflex app: pages (PWA client and admin console) and the mounted REST API."""

import reflex as rx
from reflex.config import get_config

from app.api import api_with_reflex
from app.core.gc_tuning import tune_for_server
from app.core.logs import configure_logging
from app.core.settings import get_settings
from components import a11y
from components.layout import TOAST_MARGIN, TOAST_WIDTH
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
    head_components=[*head_components(), *a11y.head_components()],
    style=a11y.APP_STYLE,
    # Phones: at the top, below the page header (at the bottom they would sit on
    # the nav bar and the composer). Desktops: in the right-hand gutter the
    # layout keeps free for them (components/layout.py TOAST_GUTTER), beside the
    # header and the list, never over them.
    toaster=rx.toast.provider(
        position="top-right",
        close_button=True,
        custom_attrs={
            "offset": {"top": "4.5rem", "right": TOAST_MARGIN},
            # Sonner's layout below 600 px wide: full width, below the header.
            "mobileOffset": {"top": "4.5rem"},
            # Sonner's rich text colours are about 4.1:1 on their tints (WCAG AA
            # asks 4.5:1): darker shades of the same hues, 6.7-7.9:1.
            "style": {
                "--width": TOAST_WIDTH,
                "--success-text": "#006624",
                "--info-text": "#004c99",
                "--warning-text": "#7a4f00",
                "--error-text": "#b00000",
            },
        },
    ),
)
register(app)

# Once what startup built is there (app/core/gc_tuning.py).
app.register_lifespan_task(tune_for_server)
