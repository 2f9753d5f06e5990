"""Load the demo organisations (demo/org.yaml) idempotently.

Running it twice changes nothing: every row is looked up by its natural key (tenant
slug, handle, team slug, property slug, memory text hash) before it is created.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import platform_session, tenant_session
from app.core.passwords import hash_password
from app.core.settings import PROJECT_ROOT, get_settings
from app.domain.models import (
    Memory,
    Property,
    PropertyService,
    Schedule,
    Team,
    TeamMember,
    Tenant,
    Unit,
    User,
)
from app.domain.money import currency_or_default
from app.domain.recurrence import Recurrence, next_occurrence
from app.domain.timezones import parse_timezone
from app.services.memories import embed_pending_memories
from app.services.operators import ensure_operator

log = logging.getLogger(__name__)

DEMO_FILE = PROJECT_ROOT / "demo" / "org.yaml"
# The demo's reference clock (org.yaml): Monday 2026-03-02 09:00, tenant-local.
DEMO_NOW = datetime(2026, 3, 2, 9, 0)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    embedded: int = 0  # memories embedded (new or left over), not rows created

    def add(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.created.values())


def load_demo(path: Path = DEMO_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


def recurrence_of(item: dict[str, Any]) -> dict[str, Any]:
    """A service's or schedule's recurrence from the YAML (weekday by name)."""
    return Recurrence.from_dict(item).to_dict()


def memory_source_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


async def _get_or_create(
    session: AsyncSession,
    report: SeedReport,
    model: Any,
    where: dict[str, Any],
    values: dict[str, Any],
) -> Any:
    stmt = select(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    row = (await session.exec(stmt)).first()
    if row is None:
        row = model(**where, **values)
        session.add(row)
        await session.flush()
        report.add(model.__tablename__)
    return row


async def seed_tenant(spec: dict[str, Any], report: SeedReport) -> uuid.UUID:
    settings = get_settings()
    async with platform_session() as ps:
        tenant = (
            await ps.exec(select(Tenant).where(Tenant.slug == spec["slug"]))
        ).first()
        if tenant is None:
            tenant = Tenant(
                slug=spec["slug"],
                name=spec["name"],
                kind=spec.get("kind", "other"),
                timezone=spec.get("timezone", "UTC"),
                monthly_token_budget=settings.default_monthly_token_budget,
                # The organisation's amounts (app/domain/money.py); USD if unset.
                policy={"currency": currency_or_default(spec.get("currency"))},
            )
            ps.add(tenant)
            report.add("tenants")
    tid = tenant.id
    zone = parse_timezone(tenant.timezone)

    async with tenant_session(tid) as s:
        props: dict[str, Property] = {}
        units: dict[tuple[str, str], Unit] = {}
        for p in spec.get("properties") or []:
            prop = await _get_or_create(
                s,
                report,
                Property,
                {"tenant_id": tid, "slug": p["slug"]},
                {"name": p["name"], "address": p.get("address", "")},
            )
            props[p["slug"]] = prop
            for label in p.get("units") or []:
                units[(p["slug"], str(label))] = await _get_or_create(
                    s,
                    report,
                    Unit,
                    {"tenant_id": tid, "property_id": prop.id, "label": str(label)},
                    {},
                )

        teams: dict[str, Team] = {}
        for t in spec.get("teams") or []:
            teams[t["slug"]] = await _get_or_create(
                s,
                report,
                Team,
                {"tenant_id": tid, "slug": t["slug"]},
                {"name": t["name"]},
            )

        password_hash = None
        users: dict[str, User] = {}
        for u in spec.get("users") or []:
            existing = (
                await s.exec(select(User).where(User.handle == u["handle"]))
            ).first()
            if existing is None:
                password_hash = password_hash or hash_password(settings.demo_password)
                prop = props.get(u.get("property", ""))
                unit = units.get((u.get("property", ""), str(u.get("unit", ""))))
                existing = User(
                    tenant_id=tid,
                    handle=u["handle"],
                    email=u["email"],
                    name=u["name"],
                    role=u["role"],
                    password_hash=password_hash,
                    property_id=prop.id if prop else None,
                    unit_id=unit.id if unit else None,
                    push_hours=u.get("push_hours"),
                )
                s.add(existing)
                await s.flush()
                report.add("users")
            elif existing.push_hours is None and u.get("push_hours"):
                existing.push_hours = u["push_hours"]  # a database seeded before
                s.add(existing)
            users[u["handle"]] = existing

        for t in spec.get("teams") or []:
            for handle in t.get("members") or []:
                await _get_or_create(
                    s,
                    report,
                    TeamMember,
                    {
                        "tenant_id": tid,
                        "team_id": teams[t["slug"]].id,
                        "user_id": users[handle].id,
                    },
                    {"is_lead": t.get("lead") == handle},
                )

        for p in spec.get("properties") or []:
            for svc in p.get("services") or []:
                rec = recurrence_of(svc)
                team = teams.get(svc.get("team", ""))
                await _get_or_create(
                    s,
                    report,
                    PropertyService,
                    {
                        "tenant_id": tid,
                        "property_id": props[p["slug"]].id,
                        "name": svc["name"],
                    },
                    {
                        "team_id": team.id if team else None,
                        "weekday": rec.get("weekday"),
                        "month_day": rec.get("month_day"),
                        "time_of_day": rec["time"],
                    },
                )

        for sch in spec.get("schedules") or []:
            rec = recurrence_of(sch)
            team = teams.get(sch.get("team", ""))
            await _get_or_create(
                s,
                report,
                Schedule,
                {"tenant_id": tid, "title": sch["title"]},
                {
                    "kind": sch.get("kind", "event"),
                    "recurrence": rec,
                    "starts_at": next_occurrence(rec, zone, DEMO_NOW),
                    "audience": [f"team:{team.slug}"] if team else [],
                    "team_id": team.id if team else None,
                },
            )

        for m in spec.get("memories") or []:
            team = teams.get(m.get("team", ""))
            user = users.get(m.get("user", ""))
            await _get_or_create(
                s,
                report,
                Memory,
                {
                    "tenant_id": tid,
                    "source_type": "seed",
                    "source_id": memory_source_id(m["text"]),
                },
                {
                    "scope": m["scope"],
                    "text": m["text"],
                    "team_id": team.id if team else None,
                    "user_id": user.id if user else None,
                },
            )
    return tid


async def seed_demo(path: Path = DEMO_FILE) -> SeedReport:
    report = SeedReport()
    tenant_ids = [
        await seed_tenant(spec, report) for spec in load_demo(path)["tenants"]
    ]
    await seed_demo_operator(report)
    await embed_seeded_memories(tenant_ids, report)
    log.info("seed done", extra={"rows_created": report.created})
    return report


DEMO_OPERATOR_EMAIL = "operator@switchboard.example"


async def seed_demo_operator(report: SeedReport) -> None:
    """A platform operator for the demo console (tenants only, no tenant content).
    Production creates its own with `python -m app.cli create-operator`."""
    if await ensure_operator(
        DEMO_OPERATOR_EMAIL,
        "Demo operator",
        get_settings().demo_password,
        keep_password=True,
    ):
        report.add("operators")


async def embed_seeded_memories(
    tenant_ids: list[uuid.UUID], report: SeedReport
) -> None:
    """Embed the memories retrieval needs; a failure leaves them to the sweeper."""
    try:
        for tid in tenant_ids:
            done = await embed_pending_memories(tid)
            report.embedded += done
    except Exception:
        log.warning("embedding demo memories failed; the worker retries", exc_info=True)
