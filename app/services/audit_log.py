"""The console's audit log: events with names instead of ids, each linked to the
audit chain it belongs to; filtered by user, action type, verdict and date;
paginated; exported as CSV. Admins only, own tenant only.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.errors import Invalid
from app.domain.models import (
    ApiKey,
    Approval,
    AuditEvent,
    Property,
    PropertyService,
    ProposedAction,
    Team,
    Unit,
    User,
)
from app.services.audit_chain import user_names
from app.services.paging import page_count

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
CSV_MAX_ROWS = 10_000
VERDICTS = ("allow", "deny", "needs_approval")


@dataclass(frozen=True)
class AuditFilter:
    user_id: uuid.UUID | None = None
    action_type: str = ""
    verdict: str = ""
    # Days in the organisation's time zone, both inclusive.
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: uuid.UUID
    created_at: datetime
    actor: str
    kind: str
    subject: str  # a readable name for what the event is about
    action_type: str
    verdict: str
    reason: str
    chain_ref: str  # "action:<id>"... when the event belongs to a message's chain


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def _conditions(
    tenant_id: uuid.UUID, f: AuditFilter, zone: ZoneInfo
) -> list[ColumnElement[bool]]:
    # An action's subject is "action:<id>": the event joins its action row, which
    # says who asked, of what type, and with which verdict.
    action_type = func.coalesce(
        AuditEvent.data["type"].astext,
        col(ProposedAction.type),
    )
    verdict = func.coalesce(
        AuditEvent.data["decision"].astext,
        ProposedAction.verdict["decision"].astext,
    )
    where: list[ColumnElement[bool]] = [col(AuditEvent.tenant_id) == tenant_id]
    if f.user_id is not None:
        ref = f"user:{f.user_id}"
        where.append(
            or_(
                col(AuditEvent.actor) == ref,
                col(AuditEvent.subject) == ref,
                col(ProposedAction.requested_by) == f.user_id,
            )
        )
    if f.action_type:
        where.append(action_type == f.action_type)
    if f.verdict:
        if f.verdict not in VERDICTS:
            raise Invalid("Unknown verdict.")
        where.append(verdict == f.verdict)
    if f.date_from is not None:
        start = datetime.combine(f.date_from, time(0), zone)
        where.append(col(AuditEvent.created_at) >= start)
    if f.date_to is not None:
        end = datetime.combine(f.date_to + timedelta(days=1), time(0), zone)
        where.append(col(AuditEvent.created_at) < end)
    return where


def _joined(query: Any) -> Any:
    subject_action = literal("action:") + cast(col(ProposedAction.id), String)
    return query.outerjoin(
        ProposedAction,
        (col(ProposedAction.tenant_id) == col(AuditEvent.tenant_id))
        & (col(AuditEvent.subject) == subject_action),
    )


async def list_audit(
    actor: Actor,
    f: AuditFilter,
    zone: ZoneInfo,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of matching events, newest first, with the total count."""
    require_admin(actor, "see the audit log")
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    where = _conditions(actor.tenant_id, f, zone)
    async with tenant_session(actor.tenant_id) as s:
        total = int(
            (
                await s.exec(
                    _joined(select(func.count()).select_from(AuditEvent)).where(*where)
                )
            ).one()
        )
        pages = page_count(total, size)
        page = max(1, min(page, pages))
        events = await _events(s, where, size, (page - 1) * size)
        entries = await _describe(s, actor.tenant_id, events)
    return AuditPage(entries, total, page, pages)


async def export_csv(actor: Actor, f: AuditFilter, zone: ZoneInfo) -> str:
    """Every matching event (newest first, at most CSV_MAX_ROWS) as CSV."""
    require_admin(actor, "export the audit log")
    where = _conditions(actor.tenant_id, f, zone)
    async with tenant_session(actor.tenant_id) as s:
        events = await _events(s, where, CSV_MAX_ROWS, 0)
        entries = await _describe(s, actor.tenant_id, events)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["time_utc", "actor", "event", "subject", "action_type", "verdict", "reason"]
        + ["chain"]
    )
    for e in entries:
        writer.writerow(
            [
                e.created_at.isoformat(),
                e.actor,
                e.kind,
                e.subject,
                e.action_type,
                e.verdict,
                e.reason,
                e.chain_ref,
            ]
        )
    return out.getvalue()


async def _events(
    s: AsyncSession, where: list[ColumnElement[bool]], limit: int, offset: int
) -> Sequence[tuple[AuditEvent, ProposedAction | None]]:
    query = (
        _joined(select(AuditEvent, ProposedAction))
        .where(*where)
        .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    )
    rows: Sequence[tuple[AuditEvent, ProposedAction | None]] = (
        await s.exec(query)
    ).all()
    return rows


def _ref_id(ref: str, prefix: str) -> uuid.UUID | None:
    if not ref.startswith(prefix):
        return None
    try:
        return uuid.UUID(ref[len(prefix) :])
    except ValueError:
        return None


# Console changes to properties, units and services: their names in the log.
PLACE_REFS = {"property": "property", "unit": "unit", "service": "service"}


async def _place_names(
    s: AsyncSession, tenant_id: uuid.UUID, refs: Sequence[str]
) -> dict[uuid.UUID, str]:
    found: dict[uuid.UUID, str] = {}
    for prefix, model, label in (
        ("property:", Property, col(Property.name)),
        ("unit:", Unit, col(Unit.label)),
        ("service:", PropertyService, col(PropertyService.name)),
    ):
        ids = {i for i in (_ref_id(r, prefix) for r in refs) if i}
        if ids:
            rows = await s.exec(
                select(col(model.id), label).where(
                    col(model.tenant_id) == tenant_id, col(model.id).in_(ids)
                )
            )
            found.update(dict(rows.all()))
    return found


async def _describe(
    s: AsyncSession,
    tenant_id: uuid.UUID,
    rows: Sequence[tuple[AuditEvent, ProposedAction | None]],
) -> list[AuditEntry]:
    """Ids → names: users, API keys, approvals' summaries, actions' types."""
    refs = [r for e, _ in rows for r in (e.actor, e.subject)]
    people = await user_names(s, tenant_id, [_ref_id(r, "user:") for r in refs])
    key_ids = {k for k in (_ref_id(r, "apikey:") for r in refs) if k}
    keys = (
        dict(
            (
                await s.exec(
                    select(ApiKey.id, ApiKey.name).where(
                        ApiKey.tenant_id == tenant_id, col(ApiKey.id).in_(key_ids)
                    )
                )
            ).all()
        )
        if key_ids
        else {}
    )
    approval_ids = {a for a in (_ref_id(e.subject, "approval:") for e, _ in rows) if a}
    approvals = (
        {
            a.id: a
            for a in (
                await s.exec(
                    select(Approval).where(
                        Approval.tenant_id == tenant_id,
                        col(Approval.id).in_(approval_ids),
                    )
                )
            ).all()
        }
        if approval_ids
        else {}
    )

    team_ids = {t for t in (_ref_id(r, "team:") for r in refs) if t}
    teams = (
        dict(
            (
                await s.exec(
                    select(Team.id, Team.name).where(
                        Team.tenant_id == tenant_id, col(Team.id).in_(team_ids)
                    )
                )
            ).all()
        )
        if team_ids
        else {}
    )

    places = await _place_names(s, tenant_id, refs)

    def name(ref: str) -> str:
        if (uid := _ref_id(ref, "user:")) is not None:
            return people.get(uid, "(deleted user)")
        kind = ref.partition(":")[0]
        if kind in PLACE_REFS and (pid := _ref_id(ref, f"{kind}:")) is not None:
            return f"{PLACE_REFS[kind]} {places.get(pid, '(deleted)')}"
        if (tid := _ref_id(ref, "team:")) is not None:
            return f"team {teams.get(tid, '(deleted)')}"
        if ref.startswith("memory:"):
            return "a memory"  # its text stays out of the log
        if (kid := _ref_id(ref, "apikey:")) is not None:
            return f"API key {keys.get(kid, '(deleted)')}"
        if ref.startswith("operator:"):
            return "platform operator"
        if ref.startswith("tenant:"):
            return "the organisation"
        return ref

    out = []
    for e, action in rows:
        data: dict[str, Any] = dict(e.data or {})
        verdict = dict(action.verdict or {}) if action else {}
        chain = ""
        subject = name(e.subject)
        if action is not None:
            chain = e.subject
            subject = f"{action.type.replace('_', ' ')} (#{action.position + 1})"
        elif (aid := _ref_id(e.subject, "approval:")) is not None:
            chain = e.subject
            approval = approvals.get(aid)
            subject = f"approval: {approval.summary}" if approval else "approval"
        elif e.subject.startswith("message:"):
            chain, subject = e.subject, "message"
        out.append(
            AuditEntry(
                id=e.id,
                created_at=e.created_at,
                actor=name(e.actor),
                kind=e.kind,
                subject=subject,
                action_type=str(data.get("type") or (action.type if action else "")),
                verdict=str(data.get("decision") or verdict.get("decision", "")),
                reason=str(data.get("reason") or verdict.get("reason", "")),
                chain_ref=chain,
            )
        )
    return out


async def audit_users(actor: Actor) -> list[tuple[uuid.UUID, str]]:
    """The people the user filter offers (everyone in the tenant, by name)."""
    require_admin(actor, "see the audit log")
    async with tenant_session(actor.tenant_id) as s:
        rows = (
            await s.exec(
                select(User.id, User.name)
                .where(User.tenant_id == actor.tenant_id)
                .order_by(col(User.name))
                .limit(1000)
            )
        ).all()
    return list(rows)
