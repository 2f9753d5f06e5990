"""Who is acting: resolved once per request, event or job, then passed everywhere.

Every fetch of a tenant-owned object goes through an access function taking an
Actor (see app/services/access.py); row-level security catches whatever slips
through.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.errors import Forbidden
from app.domain.roles import APPROVER_ROLES, STAFF_ROLES, Role


@dataclass(frozen=True)
class Actor:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: str  # admin | manager | employee | resident (| integration)

    @property
    def ref(self) -> str:
        return f"user:{self.user_id}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def can_approve(self) -> bool:
        return self.role in APPROVER_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin.value


def require_admin(actor: Actor, what: str = "do this") -> None:
    """Only the organisation's administrators may go on."""
    if not actor.is_admin:
        raise Forbidden(f"Only the organisation's administrators can {what}.")
