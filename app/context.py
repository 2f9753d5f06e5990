"""Who is acting: resolved once per request, event or job, then passed everywhere.

Every fetch of a tenant-owned object goes through an access function taking an
Actor (see app/services/); row-level security catches whatever slips through.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

STAFF_ROLES = frozenset({"admin", "manager", "employee"})
APPROVER_ROLES = frozenset({"admin", "manager"})


@dataclass(frozen=True)
class Actor:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: str  # admin | manager | employee | resident

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
        return self.role == "admin"
