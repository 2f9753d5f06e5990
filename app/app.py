"""The Reflex app: pages (PWA client and admin console) and the mounted REST API."""

import reflex as rx

from app.api import api_with_reflex
from app.core.logs import configure_logging
from app.core.settings import get_settings
from components.pages import register
from components.pwa import head_components

configure_logging(get_settings().log_level)

app = rx.App(
    api_transformer=api_with_reflex,
    head_components=head_components(),
    # Top of the screen: at the bottom, toasts would sit on the phone's nav bar.
    toaster=rx.toast.provider(position="top-center", close_button=True),
)
register(app)
