"""The console's properties tab: the list (search, archived on request, pages), one
property with its units, residents, recurring services and service log, and the
forms that change them. Admins and managers read; only admins change (every
handler checks; the guards themselves are in app/services/properties.py and
app/services/recurring_services.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from app.domain.actor import Actor
from app.domain.errors import DomainError
from app.domain.recurrence import WEEKDAYS
from app.domain.roles import ADMIN_ROLES, APPROVER_ROLES
from app.services import console, properties, recurring_services
from app.services.recurring_services import MAX_LOG_NOTE, ServiceInput
from state.audit import AuditState
from state.format import local, parse_id
from state.session import SessionState, guarded

NOBODY = "none"  # the "done by" choice for a service with no team or vendor
VENDOR = "vendor"
REPEATS = {"weekly": "Every week", "monthly": "Every month", "daily": "Every day"}
WEEKDAY_CHOICES = [(str(i), d.title()) for i, d in enumerate(WEEKDAYS)]


def _names(residents: list[properties.Resident]) -> str:
    return ", ".join(r.name + (" (disabled)" if r.disabled else "") for r in residents)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


class PropertiesState(SessionState):
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    query: str = ""
    show_archived: bool = False
    team_choices: list[list[str]] = []  # [id, name]
    # The property open below the list ("" : none).
    selected: str = ""
    name: str = ""
    address: str = ""
    archived: bool = False
    units: list[dict[str, str]] = []
    elsewhere: str = ""  # residents of the property without a unit
    services: list[dict[str, str]] = []
    log: list[dict[str, str]] = []
    log_total: int = 0
    log_page: int = 1
    log_pages: int = 1
    new_unit: str = ""
    unit_error: str = ""
    # The property dialog (prop_id "": a new property).
    prop_open: bool = False
    prop_id: str = ""
    prop_name: str = ""
    prop_address: str = ""
    prop_error: str = ""
    # The unit rename dialog.
    rename_open: bool = False
    rename_id: str = ""
    rename_label: str = ""
    rename_error: str = ""
    # The service dialog (svc_id "": a new service).
    svc_open: bool = False
    svc_id: str = ""
    svc_name: str = ""
    svc_who: str = NOBODY  # NOBODY, VENDOR or a team id
    svc_vendor: str = ""
    svc_repeat: str = "weekly"
    svc_weekday: str = "0"
    svc_month_day: str = "1"
    svc_time: str = "09:00"
    svc_error: str = ""
    # The "log a service" dialog: a recurring service done, written by hand.
    entry_open: bool = False
    entry_service: str = ""
    entry_at: str = ""  # tenant-local, as the datetime-local input gives it
    entry_note: str = ""
    entry_error: str = ""

    # ------------------------------------------------------------ reads

    async def _load(self, actor: Actor) -> None:
        found = await properties.list_properties(
            actor, query=self.query, archived=self.show_archived, page=self.page
        )
        self.total, self.page, self.pages = found.total, found.page, found.pages
        self.rows = [
            {
                "id": str(p.id),
                "name": p.name,
                "address": p.address,
                "units": str(p.units),
                "residents": str(p.residents),
                "services": str(p.services),
                "state": "archived" if p.archived else "active",
                "summary": " · ".join(
                    _count(n, what)
                    for n, what in (
                        (p.units, "unit"),
                        (p.residents, "resident"),
                        (p.services, "service"),
                    )
                ),
            }
            for p in found.properties
        ]

    async def _load_detail(self, actor: Actor) -> None:
        pid = parse_id(self.selected)
        detail = await properties.property_detail(actor, pid)
        self.name, self.address = detail.name, detail.address
        self.archived = detail.archived
        self.units = [
            {
                "id": str(u.id),
                "label": u.label,
                "residents": _names(u.residents),
                "state": "archived" if u.archived else "active",
            }
            for u in detail.units
        ]
        self.elsewhere = _names(detail.elsewhere)
        zone = await console.tenant_zone(actor)
        self.services = [
            {
                "id": str(v.id),
                "name": v.name,
                "who": v.team or v.vendor or "Not assigned",
                "kind": "team" if v.team else ("vendor" if v.vendor else ""),
                "when": v.when,
                "next": local(v.next_at, zone),
            }
            for v in await recurring_services.list_services(actor, pid)
        ]
        await self._load_log(actor)

    async def _load_log(self, actor: Actor) -> None:
        zone = await console.tenant_zone(actor)
        found = await recurring_services.service_log(
            actor, parse_id(self.selected), page=self.log_page
        )
        self.log_total, self.log_page = found.total, found.page
        self.log_pages = found.pages
        self.log = [
            {
                "id": str(e.id),
                "service": e.service,
                "note": e.note,
                "by": e.by or "the assistant",
                "at": local(e.at, zone),
            }
            for e in found.entries
        ]

    async def _refresh(self, actor: Actor) -> None:
        await self._load(actor)
        if self.selected:
            await self._load_detail(actor)

    async def _changed(self, actor: Actor) -> None:
        """After a change: this tab, and the audit tab, which shows it at once."""
        await self._refresh(actor)
        await (await self.get_state(AuditState))._load(actor)

    @rx.event
    @guarded(*APPROVER_ROLES, quiet_role=True)
    async def load_properties(self, actor: Actor) -> None:
        teams = await console.list_teams(actor) if actor.is_admin else []
        self.team_choices = [[str(t.id), t.name] for t in teams]
        await self._refresh(actor)

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def search(self, actor: Actor, value: str) -> None:
        self.query, self.page = str(value)[:100], 1
        await self._load(actor)

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def set_show_archived(self, actor: Actor, value: bool) -> None:
        self.show_archived, self.page = bool(value), 1
        await self._load(actor)

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def go_page(self, actor: Actor, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._load(actor)

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def open_property(self, actor: Actor, property_id: str) -> None:
        parse_id(property_id)
        previous, self.selected = self.selected, property_id
        self.log_page, self.new_unit, self.unit_error = 1, "", ""
        try:
            await self._load_detail(actor)
        except DomainError:
            self.selected = previous
            raise

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def close_property(self, actor: Actor) -> None:
        self.selected = ""
        await self._load(actor)

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def log_go(self, actor: Actor, delta: int) -> None:
        if self.selected:
            self.log_page = max(1, min(self.log_pages, self.log_page + int(delta)))
            await self._load_log(actor)

    # ------------------------------------------------------------ properties

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def new_property(self, actor: Actor) -> None:
        self.prop_id, self.prop_name, self.prop_address = "", "", ""
        self.prop_error, self.prop_open = "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def edit_property(self, actor: Actor) -> None:
        if self.selected:
            self.prop_id, self.prop_name = self.selected, self.name
            self.prop_address, self.prop_error = self.address, ""
            self.prop_open = True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def close_prop(self, actor: Actor) -> None:
        self.prop_open = False

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_prop(self, actor: Actor, field: str, value: str) -> None:
        if field == "name":
            self.prop_name = str(value)[:200]
        elif field == "address":
            self.prop_address = str(value)[:500]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_property(self, actor: Actor) -> Any:
        try:
            if self.prop_id:
                await properties.update_property(
                    actor, parse_id(self.prop_id), self.prop_name, self.prop_address
                )
            else:
                pid = await properties.create_property(
                    actor, self.prop_name, self.prop_address
                )
                self.selected, self.log_page = str(pid), 1
        except DomainError as exc:
            self.prop_error = exc.message
            return None
        self.prop_open = False
        await self._changed(actor)
        return rx.toast.success(f"Saved {self.name}.")

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def archive_property(self, actor: Actor, archived: bool) -> Any:
        if not self.selected:
            return None
        await properties.set_property_archived(
            actor, parse_id(self.selected), bool(archived)
        )
        await self._changed(actor)
        verb = "Archived" if archived else "Restored"
        return rx.toast.success(f"{verb} {self.name}.")

    # ------------------------------------------------------------ units

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_new_unit(self, actor: Actor, value: str) -> None:
        self.new_unit = str(value)[:40]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def add_unit(self, actor: Actor) -> Any:
        if not self.selected:
            return None
        try:
            await properties.add_unit(actor, parse_id(self.selected), self.new_unit)
        except DomainError as exc:
            self.unit_error = exc.message
            return None
        label = self.new_unit.strip()
        self.new_unit, self.unit_error = "", ""
        await self._changed(actor)
        return rx.toast.success(f"Added unit {label}.")

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def open_rename(self, actor: Actor, unit_id: str) -> None:
        unit = next((u for u in self.units if u["id"] == unit_id), None)
        if unit is not None:
            self.rename_id, self.rename_label = unit_id, unit["label"]
            self.rename_error, self.rename_open = "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def close_rename(self, actor: Actor) -> None:
        self.rename_open = False

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_rename_label(self, actor: Actor, value: str) -> None:
        self.rename_label = str(value)[:40]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_rename(self, actor: Actor) -> Any:
        try:
            await properties.rename_unit(
                actor, parse_id(self.rename_id), self.rename_label
            )
        except DomainError as exc:
            self.rename_error = exc.message
            return None
        self.rename_open = False
        await self._changed(actor)
        return rx.toast.success(f"Renamed to {self.rename_label.strip()}.")

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def archive_unit(self, actor: Actor, unit_id: str, archived: bool) -> Any:
        await properties.set_unit_archived(actor, parse_id(unit_id), bool(archived))
        await self._changed(actor)
        return rx.toast.success("Unit archived." if archived else "Unit restored.")

    # ------------------------------------------------------------ services

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def new_service(self, actor: Actor) -> None:
        self.svc_id, self.svc_name, self.svc_who, self.svc_vendor = "", "", NOBODY, ""
        self.svc_repeat, self.svc_weekday, self.svc_month_day = "weekly", "0", "1"
        self.svc_time, self.svc_error, self.svc_open = "09:00", "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def edit_service(self, actor: Actor, service_id: str) -> None:
        if not self.selected:
            return
        views = await recurring_services.list_services(actor, parse_id(self.selected))
        svc = next((v for v in views if str(v.id) == service_id), None)
        if svc is None:
            return
        self.svc_id, self.svc_name = service_id, svc.name
        self.svc_who = (
            str(svc.team_id) if svc.team_id else (VENDOR if svc.vendor else NOBODY)
        )
        self.svc_vendor = svc.vendor
        self.svc_repeat = (
            "monthly"
            if svc.month_day is not None
            else ("weekly" if svc.weekday is not None else "daily")
        )
        self.svc_weekday = str(svc.weekday if svc.weekday is not None else 0)
        self.svc_month_day = str(svc.month_day or 1)
        self.svc_time, self.svc_error, self.svc_open = svc.time, "", True

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def close_service(self, actor: Actor) -> None:
        self.svc_open = False

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_svc(self, actor: Actor, field: str, value: str) -> None:
        value = str(value)
        if field == "name":
            self.svc_name = value[:200]
        elif field == "who":
            self.svc_who = value[:40]
        elif field == "vendor":
            self.svc_vendor = value[:200]
        elif field == "repeat" and value in REPEATS:
            self.svc_repeat = value
        elif field == "weekday":
            self.svc_weekday = value[:2]
        elif field == "month_day":
            self.svc_month_day = value[:2]
        elif field == "time":
            self.svc_time = value[:5]

    def _service_input(self) -> ServiceInput:
        """The form as the service takes it; a malformed number is the same clear
        message as any other bad rule (checked again by the service)."""
        weekday = month_day = None
        try:
            if self.svc_repeat == "weekly":
                weekday = int(self.svc_weekday)
            elif self.svc_repeat == "monthly":
                month_day = int(self.svc_month_day)
        except ValueError:
            month_day = 0
        team = None
        if self.svc_who not in (NOBODY, VENDOR):
            team = parse_id(self.svc_who)
        return ServiceInput(
            name=self.svc_name,
            team_id=team,
            vendor=self.svc_vendor if self.svc_who == VENDOR else "",
            weekday=weekday,
            month_day=month_day,
            time=self.svc_time,
        )

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def save_service(self, actor: Actor) -> Any:
        if not self.selected:
            return None
        try:
            await recurring_services.save_service(
                actor,
                parse_id(self.selected),
                parse_id(self.svc_id) if self.svc_id else None,
                self._service_input(),
            )
        except DomainError as exc:
            self.svc_error = exc.message
            return None
        self.svc_open = False
        await self._changed(actor)
        return rx.toast.success(f"Saved {' '.join(self.svc_name.split())}.")

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def remove_service(self, actor: Actor, service_id: str) -> Any:
        await recurring_services.remove_service(actor, parse_id(service_id))
        await self._changed(actor)
        return rx.toast.success("Service removed.")

    # ------------------------------------------------- a service done, by hand

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def new_entry(self, actor: Actor) -> None:
        if not self.services:
            return
        zone = await console.tenant_zone(actor)
        self.entry_service = self.services[0]["id"]
        self.entry_at = datetime.now(zone).strftime("%Y-%m-%dT%H:%M")
        self.entry_note, self.entry_error, self.entry_open = "", "", True

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def close_entry(self, actor: Actor) -> None:
        self.entry_open = False

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def set_entry(self, actor: Actor, field: str, value: str) -> None:
        value = str(value)
        if field == "service":
            self.entry_service = value[:40]
        elif field == "at":
            self.entry_at = value[:25]
        elif field == "note":
            self.entry_note = value[:MAX_LOG_NOTE]

    @rx.event
    @guarded(*APPROVER_ROLES)
    async def save_entry(self, actor: Actor) -> Any:
        if not self.selected:
            return None
        try:
            entry = await recurring_services.log_performed(
                actor, parse_id(self.entry_service), self.entry_note, self.entry_at
            )
        except DomainError as exc:
            self.entry_error = exc.message
            return None
        self.entry_open, self.log_page = False, 1
        await self._changed(actor)
        return rx.toast.success(f"Logged {entry.service}.")
