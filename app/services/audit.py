"""Audit trail: who did what, written in the same transaction as the change."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain.models import AuditEvent


def record(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: str,
    kind: str,
    subject: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """actor: user:<id>, assistant, system or apikey:<id>. No secrets in data."""
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor=actor,
            kind=kind,
            subject=subject[:120],
            data=data or {},
        )
    )
