"""A property's recurring services in the admin console (who does it: a team or an
outside vendor; when: a app/domain/recurrence.py rule) and its service log, the
services performed, newest first.

Removing a service deactivates it: its log entries keep pointing at it, and the
assistant (which reads active services only) no longer offers it. Adding a service
under a removed one's name brings that one back with the new details, so the name
stays unique per property. Admins change; managers read, and log by hand a service
that was done (as the assistant's log_service does from a chat). Every change is
audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import tenant_session
from app.domain.actor import Actor, require_admin
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.models import (
    PropertyService,
    ServiceLog,
    Team,
    Tenant,
    User,
    utcnow,
)
from app.domain.recurrence import (
    Recurrence,
    RecurrenceError,
    next_local,
    next_occurrence,
)
from app.domain.timezones import zone_or_utc
from app.services import audit
from app.services.access import access_property, access_property_service
from app.services.paging import page_count
from app.services.properties import require_reader

MAX_SERVICE_NAME = 200
MAX_VENDOR = 200
LOG_PAGE_SIZE = 20


@dataclass(frozen=True)
class ServiceInput:
    """What the service form sends (team or vendor, or neither: not both)."""

    name: str
    team_id: uuid.UUID | None = None
    vendor: str = ""
    weekday: int | None = None
    month_day: int | None = None
    time: str = "09:00"


@dataclass(frozen=True)
class ServiceView:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None
    team: str
    vendor: str
    weekday: int | None
    month_day: int | None
    time: str
    when: str  # "every Friday at 10:00"
    next_at: datetime | None  # aware, in the tenant's zone


def _rule(data: ServiceInput) -> Recurrence:
    try:
        rule = Recurrence(data.time.strip(), data.weekday, data.month_day)
        # Stored as HH:MM ("7:30" is 07:30) and checked to happen at all.
        clock = rule.clock
        rule = Recurrence(f"{clock:%H:%M}", rule.weekday, rule.month_day)
        next_local(rule, datetime(2000, 1, 1), inclusive=True)
        return rule
    except RecurrenceError as exc:
        raise Invalid(
            "Choose a time as HH:MM (00:00-23:59), a weekday, or a day of the "
            "month from 1 to 31."
        ) from exc


def _checked(data: ServiceInput) -> tuple[str, str, Recurrence]:
    name = " ".join(data.name.split())
    if not name or len(name) > MAX_SERVICE_NAME:
        raise Invalid(f"A service name needs 1-{MAX_SERVICE_NAME} characters.")
    vendor = " ".join(data.vendor.split())
    if len(vendor) > MAX_VENDOR:
        raise Invalid(f"A vendor name has at most {MAX_VENDOR} characters.")
    if vendor and data.team_id is not None:
        raise Invalid("Choose a team or a vendor, not both.")
    return name, vendor, _rule(data)


async def _tenant_zone(s: AsyncSession, tid: uuid.UUID) -> ZoneInfo:
    """The organisation's time zone, read in the caller's transaction."""
    name = (await s.exec(select(Tenant.timezone).where(Tenant.id == tid))).first()
    return zone_or_utc(name)


async def list_services(actor: Actor, property_id: uuid.UUID) -> list[ServiceView]:
    """The property's active services by name, with when each next happens."""
    require_reader(actor)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        rows = (
            await s.exec(
                select(PropertyService, Team.name)
                .outerjoin(
                    Team,
                    (col(Team.tenant_id) == col(PropertyService.tenant_id))
                    & (col(Team.id) == col(PropertyService.team_id)),
                )
                .where(
                    PropertyService.tenant_id == tid,
                    PropertyService.property_id == prop.id,
                    col(PropertyService.active).is_(True),
                )
                .order_by(func.lower(col(PropertyService.name)))
            )
        ).all()
        zone = await _tenant_zone(s, tid)
    out = []
    for svc, team in rows:
        rule = Recurrence(svc.time_of_day, svc.weekday, svc.month_day)
        try:
            upcoming: datetime | None = next_occurrence(rule, zone, datetime.now(zone))
        except RecurrenceError:  # "February 31st": stored, but never happens
            upcoming = None
        out.append(
            ServiceView(
                svc.id,
                svc.name,
                svc.team_id,
                team or "",
                svc.vendor,
                svc.weekday,
                svc.month_day,
                svc.time_of_day,
                rule.describe(),
                upcoming,
            )
        )
    return out


async def _team(s: AsyncSession, tid: uuid.UUID, team_id: uuid.UUID | None) -> str:
    if team_id is None:
        return ""
    team = await s.get(Team, (tid, team_id))
    if team is None:
        raise NotFound("No such team.")
    return team.name


async def save_service(
    actor: Actor,
    property_id: uuid.UUID,
    service_id: uuid.UUID | None,
    data: ServiceInput,
) -> uuid.UUID:
    """Add (service_id None) or edit a recurring service of a property."""
    require_admin(actor, "change recurring services")
    name, vendor, rule = _checked(data)
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        if prop.archived_at is not None:
            raise Invalid(f"{prop.name} is archived: restore it first.")
        team = await _team(s, tid, data.team_id)
        same = (
            await s.exec(
                select(PropertyService).where(
                    PropertyService.tenant_id == tid,
                    PropertyService.property_id == prop.id,
                    func.lower(col(PropertyService.name)) == name.lower(),
                )
            )
        ).first()
        if service_id is None:
            if same is not None and same.active:
                raise Conflict(f"{prop.name} already has a service called {same.name}.")
            svc = same or PropertyService(tenant_id=tid, property_id=prop.id, name=name)
            kind = "service.created"
        else:
            svc = await access_property_service(s, actor, service_id)
            if svc.property_id != prop.id or not svc.active:
                raise NotFound("Not found.")
            if same is not None and same.id != svc.id:
                raise Conflict(f"{prop.name} already has a service called {same.name}.")
            kind = "service.updated"
        svc.name, svc.team_id, svc.vendor = name, data.team_id, vendor
        svc.weekday, svc.month_day = rule.weekday, rule.month_day
        svc.time_of_day, svc.active = rule.time, True
        s.add(svc)
        await s.flush()
        audit.record(
            s,
            tid,
            actor.ref,
            kind,
            f"service:{svc.id}",
            {
                "property": prop.name,
                "name": name,
                "who": team or vendor,
                "when": rule.describe(),
            },
        )
        return svc.id


async def remove_service(actor: Actor, service_id: uuid.UUID) -> None:
    """Stop a recurring service (its log stays)."""
    require_admin(actor, "remove recurring services")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        svc = await access_property_service(s, actor, service_id)
        if not svc.active:
            return
        prop = await access_property(s, actor, svc.property_id)
        svc.active = False
        s.add(svc)
        audit.record(
            s,
            tid,
            actor.ref,
            "service.removed",
            f"service:{svc.id}",
            {"property": prop.name, "name": svc.name},
        )


# ------------------------------------------------------------------ service log


@dataclass(frozen=True)
class LogEntry:
    id: uuid.UUID
    service: str
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    total: int
    page: int
    pages: int


async def service_log(
    actor: Actor,
    property_id: uuid.UUID,
    page: int = 1,
    page_size: int = LOG_PAGE_SIZE,
) -> LogPage:
    """The services performed at a property, newest first, one page at a time
    (ix_service_logs_property serves the order)."""
    require_reader(actor)
    tid = actor.tenant_id
    size = max(1, min(page_size, 100))
    async with tenant_session(tid) as s:
        prop = await access_property(s, actor, property_id)
        where = [
            col(ServiceLog.tenant_id) == tid,
            col(ServiceLog.property_id) == prop.id,
        ]
        total = int((await s.exec(select(func.count()).where(*where))).one())
        pages = page_count(total, size)
        page = max(1, min(page, pages))
        rows = (
            await s.exec(
                select(ServiceLog, User.name)
                .outerjoin(
                    User,
                    (col(User.tenant_id) == col(ServiceLog.tenant_id))
                    & (col(User.id) == col(ServiceLog.performed_by)),
                )
                .where(*where)
                .order_by(col(ServiceLog.performed_at).desc(), col(ServiceLog.id))
                .limit(size)
                .offset((page - 1) * size)
            )
        ).all()
    entries = [
        LogEntry(log.id, log.service_name, log.note, by or "", log.performed_at)
        for log, by in rows
    ]
    return LogPage(entries, total, page, pages)


# How far back a hand-written entry may go: late paperwork, not a rewritten history.
MAX_LOG_AGE = timedelta(days=366)
# A clock a little ahead of the server's is not "the future".
CLOCK_SKEW = timedelta(minutes=5)
MAX_LOG_NOTE = 2000


def _performed_at(value: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A tenant-local date and time from the form ("2026-03-02T09:30"); empty is
    now. Never in the future, at most a year back."""
    if not value.strip():
        return now
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("Give the date and time the service was done.") from None
    at = (local if local.tzinfo else local.replace(tzinfo=zone)).astimezone(UTC)
    if at > now + CLOCK_SKEW:
        raise Invalid("A service can only be logged once it has been done.")
    if at < now - MAX_LOG_AGE:
        raise Invalid("Services done over a year ago cannot be logged.")
    return at


async def log_performed(
    actor: Actor, service_id: uuid.UUID, note: str = "", performed_at: str = ""
) -> LogEntry:
    """Record by hand that a recurring service was done (what the assistant's
    log_service action records from a chat): admins and managers, at an active
    service of a property that is not archived."""
    require_reader(actor)
    text = note.strip()
    if len(text) > MAX_LOG_NOTE:
        raise Invalid(f"The note is limited to {MAX_LOG_NOTE} characters.")
    tid = actor.tenant_id
    async with tenant_session(tid) as s:
        svc = await access_property_service(s, actor, service_id)
        prop = await access_property(s, actor, svc.property_id)
        if not svc.active or prop.archived_at is not None:
            raise Invalid("That service is no longer offered at this property.")
        at = _performed_at(performed_at, await _tenant_zone(s, tid), utcnow())
        entry = ServiceLog(
            tenant_id=tid,
            property_id=prop.id,
            service_id=svc.id,
            service_name=svc.name,
            note=text,
            performed_by=actor.user_id,
            performed_at=at,
        )
        s.add(entry)
        audit.record(
            s,
            tid,
            actor.ref,
            "service.logged",
            f"service:{svc.id}",
            {"property": prop.name, "name": svc.name, "at": at.isoformat()},
        )
        by = await s.get(User, (tid, actor.user_id))
    return LogEntry(entry.id, svc.name, text, by.name if by else "", at)
