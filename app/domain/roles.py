"""Who may do what, by role: the one place the role names and role sets are spelled."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    admin = "admin"
    manager = "manager"
    employee = "employee"
    resident = "resident"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
STAFF_ROLES = frozenset({Role.admin.value, Role.manager.value, Role.employee.value})
# Who approves critical actions and sees the approvals inbox.
APPROVER_ROLES = frozenset({Role.admin.value, Role.manager.value})
ADMIN_ROLES = frozenset({Role.admin.value})
# Inbound integration events act with the least staff power (no person behind them).
INTEGRATION_ROLE = "integration"
