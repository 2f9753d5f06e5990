"""What every action type declares, and the shared checks its validator uses.

An action type is one module in this package with a `SPEC` (ActionSpec):

- `input`: the pydantic shape the model proposes (untrusted: every field typed and
  bounded, extra keys refused);
- `payload`: the typed, *resolved* shape that is stored, hashed, approved and run
  (ids inside the tenant, times in UTC);
- `check(input, ctx)`: permission and resolution against the sender's directory,
  raising Refused with a reason the sender reads;
- `execute(payload, effects)`: the writes, through the Effects port that the
  service layer implements (app/services/execution.py), so this package never opens
  a session itself;
- `label` and `verb` for the console, the audit log and refusals, and optionally
  an extra approval rule and the memory a run leaves behind.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, PlainSerializer, StringConstraints
from sqlmodel import SQLModel

from app.domain.directory import (
    Directory,
    PropertyEntry,
    Resolved,
    ServiceEntry,
    UnknownRef,
)
from app.domain.limits import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from app.domain.tenant_policy import TenantPolicy

UTC = ZoneInfo("UTC")
# How far in the past a due date or start may be (a reminder "at 9" sent at 9:03).
PAST_GRACE = timedelta(minutes=15)
MAX_FUTURE = timedelta(days=366 * 2)
MAX_RECIPIENTS = 50
MAX_SLUG = 63

# user:<handle>, team:<slug>, role:<role>, property:<slug>. Handles and slugs are
# lowercase words with - _ . inside; anything else (spaces, ids, other tenants'
# display names) is not a reference.
REF_PATTERN = r"^(user|team|role|property):[a-z0-9][a-z0-9_.-]{0,62}$"
Ref = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=REF_PATTERN)
]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_SLUG)]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_CHARS),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT_CHARS)
]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
UnitLabel = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
ServiceName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
# Stored payload times: aware UTC, written as isoformat() ("...+00:00").
UtcTime = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


def check_local_iso(value: str | None) -> str | None:
    """Times are tenant-local ISO 8601 (2026-03-03T07:00); the check converts."""
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not an ISO date-time: {value[:40]!r}") from exc
    return value


class ActionInput(BaseModel):
    """What the model proposes. Extra keys are an error: a field the schema does not
    know is not silently dropped (it could be an attempt to smuggle something past
    validation)."""

    model_config = ConfigDict(extra="forbid")
    type: str


class Payload(BaseModel):
    """The resolved action as stored (JSON), hashed, approved and executed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Refused(Exception):
    """The action is refused; `reason` is shown to the sender. `code` names the
    kind of refusal in a fixed word (counted by the metrics, where the reason's
    names and places must not go)."""

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class CheckContext:
    """The sender's directory, clock and policy, and the checks actions share."""

    def __init__(
        self,
        directory: Directory,
        now_local: datetime,
        policy: TenantPolicy,
        tz: ZoneInfo,
    ) -> None:
        self.d = directory
        self.sender = directory.sender
        self.tz = tz
        self.now_local = now_local
        self.policy = policy

    @property
    def is_resident(self) -> bool:
        return self.sender.role == "resident"

    def staff_only(self, what: str) -> None:
        if self.is_resident:
            raise Refused(f"residents cannot {what}", "role")

    def resolve(self, ref: str) -> Resolved:
        try:
            return self.d.resolve(ref)
        except UnknownRef as exc:
            raise Refused(exc.reason, "unknown_ref") from exc

    def recipients(
        self, refs: Iterable[str], *, self_only_ok: bool = False
    ) -> list[uuid.UUID]:
        """Everyone the refs reach, never the sender; refused if that is nobody,
        unless `self_only_ok` (a reminder the sender sets for themselves)."""
        ids: list[uuid.UUID] = []
        for ref in refs:
            target = self.resolve(ref)
            if self.is_resident:
                self._resident_may_address(target)
            ids.extend(target.user_ids)
        ids = [i for i in dict.fromkeys(ids) if i != self.sender.id]
        if not ids and not self_only_ok:
            raise Refused(
                "nobody to tell: the recipients are only you or nobody", "no_recipient"
            )
        return ids

    def _resident_may_address(self, target: Resolved) -> None:
        if target.kind == "property" or (
            target.kind == "role" and target.ref.endswith(":resident")
        ):
            raise Refused("residents cannot message other residents", "role")
        people = [self.d.person_by_id(i) for i in target.user_ids]
        if any(p is None or not (p.is_staff or p.id == self.sender.id) for p in people):
            raise Refused("residents can only message staff", "role")

    def property(self, slug: str) -> PropertyEntry:
        prop = self.d.property(slug)
        if prop is None:
            raise Refused(f"property:{slug} is not in your directory", "unknown_ref")
        return prop

    def service(self, slug: str, name: str) -> tuple[PropertyEntry, ServiceEntry]:
        """A property's recurring service by name; staff only."""
        prop = self.property(slug)
        service = prop.service(name)
        if service is None:
            raise Refused(
                f"{prop.name} has no service called {name!r}", "unknown_service"
            )
        return prop, service

    def place(
        self, slug: str | None, unit: str | None
    ) -> tuple[PropertyEntry | None, uuid.UUID | None]:
        """The property and unit an action is about; a resident's is always their
        own, whatever the model wrote."""
        if self.is_resident:
            own = self.sender.property
            if slug and slug != own or unit and unit != self.sender.unit:
                raise Refused("residents can only act on their own unit", "role")
            slug, unit = own, self.sender.unit
        if not slug:
            if unit:
                raise Refused("a unit needs its property", "invalid")
            return None, None
        prop = self.property(slug)
        if not unit:
            return prop, None
        unit_id = prop.unit_id(unit)
        if unit_id is None:
            raise Refused(f"{prop.name} has no unit {unit}", "unknown_unit")
        return prop, unit_id

    def utc(self, local_iso: str, what: str) -> datetime:
        """A tenant-local ISO time as aware UTC, within the allowed window."""
        try:
            local = datetime.fromisoformat(local_iso)
        except ValueError as exc:
            raise Refused(
                f"{what} is not a date-time: {local_iso!r}", "invalid_time"
            ) from exc
        if local.tzinfo is not None:
            local = local.astimezone(self.tz).replace(tzinfo=None)
        if local < self.now_local - PAST_GRACE:
            raise Refused(f"the {what} time {local_iso} is in the past", "past")
        if local > self.now_local + MAX_FUTURE:
            raise Refused(
                f"the {what} time {local_iso} is too far ahead", "too_far_ahead"
            )
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def local_label(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%a %d %b %H:%M")


class Effects(Protocol):
    """The writes an executor may make, inside the caller's transaction; the
    service layer implements it (app/services/execution.py). Every row written
    carries the action's id, so running an action twice writes it once."""

    @property
    def sender_id(self) -> uuid.UUID | None: ...

    async def insert_once(
        self, table: builtins.type[SQLModel], values: dict[str, Any]
    ) -> uuid.UUID:
        """Insert a row for this action (once); its id, new or existing."""
        ...

    async def notify(
        self,
        user_ids: Iterable[uuid.UUID],
        *,
        kind: str,
        title: str,
        body: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Tell these users (never the sender), once per action and user."""
        ...

    def remind(self, schedule_id: uuid.UUID, at: datetime) -> None:
        """Queue the schedule's reminder once the transaction has committed."""
        ...

    async def open_task_like(
        self, title: str, property_id: uuid.UUID, unit_id: uuid.UUID | None
    ) -> uuid.UUID | None:
        """An open (or in progress) task at this place about the same problem."""
        ...


I = TypeVar("I", bound=ActionInput)  # noqa: E741
P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Checked(Generic[P]):
    payload: P
    summary: str  # "Task: Fix the sink" (approval cards, audit)


@dataclass(frozen=True)
class MemoryNote:
    """Who and when, for the memory a run leaves behind."""

    sender_name: str
    day: str  # YYYY-MM-DD


@dataclass(frozen=True)
class ActionSpec(Generic[I, P]):
    type: str
    order: int  # position in lists shown to people and to the model
    label: str  # "Create a task": console, audit log, settings
    verb: str  # "create that task": "I could not create that task: ..."
    input: builtins.type[I]
    payload: builtins.type[P]
    check: Callable[[I, CheckContext], Checked[P]]
    execute: Callable[[P, Effects], Awaitable[dict[str, str]]]
    # An approval rule of the type's own (the purchase threshold of a task).
    approval: Callable[[I, TenantPolicy], str | None] | None = None
    # What the assistant remembers after running it, if anything.
    memory: Callable[[P, MemoryNote], str | None] | None = None
