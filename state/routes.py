"""Every route of the UI, in one place (pages, links and redirects use these)."""

from __future__ import annotations

from app.domain.roles import ADMIN_ROLES

LOGIN = "/login"
CHAT = "/"
TASKS = "/tasks"
ALERTS = "/alerts"
APPROVALS = "/approvals"
REQUESTS = "/requests"
SETTINGS = "/settings"
ADMIN = "/admin"
ADMIN_CHAIN = "/admin/chain"
OPERATOR = "/operator"
OPERATOR_LOGIN = "/operator/login"

# Where a signed-in user may be sent back to after logging in again.
RETURNABLE = frozenset({CHAT, TASKS, ALERTS, APPROVALS, REQUESTS, SETTINGS, ADMIN})


def normalize(path: str) -> str:
    """ "/alerts/" (production build) and "/alerts" (dev server) are one page."""
    return path.rstrip("/") or "/"


def safe_next(path: str) -> str:
    """A post-login destination that is one of ours (never an open redirect)."""
    path = normalize(path)
    return path if path in RETURNABLE else CHAT


def home_for(role: str) -> str:
    """Where a user lands after signing in: admins in the console."""
    return ADMIN if role in ADMIN_ROLES else CHAT
