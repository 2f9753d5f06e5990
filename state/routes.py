"""Every route of the UI, in one place (pages, links and redirects use these)."""

from __future__ import annotations

LOGIN = "/login"
CHAT = "/"
TASKS = "/tasks"
ALERTS = "/alerts"
APPROVALS = "/approvals"
ADMIN = "/admin"
OPERATOR = "/operator"
OPERATOR_LOGIN = "/operator/login"

# Where a signed-in user may be sent back to after logging in again.
RETURNABLE = frozenset({CHAT, TASKS, ALERTS, APPROVALS, ADMIN})


def safe_next(path: str) -> str:
    """A post-login destination that is one of ours (never an open redirect)."""
    return path if path in RETURNABLE else CHAT
