"""Recurring times (a property service every Friday at 10:00, a schedule on the 15th
of each month) and their next occurrence: the one implementation of that rule.

Times are tenant-local wall-clock times; `next_occurrence` works in the tenant's
zone and returns an aware datetime, so a daylight-saving change keeps "10:00" at
10:00 local.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from typing import Any
from zoneinfo import ZoneInfo

# Weekday numbers follow Python's date.weekday(): 0 = Monday.
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# A weekday *and* a day of the month (Friday the 13th) can be 14 months apart;
# nothing valid is further away than this.
_HORIZON_DAYS = 3 * 366


class RecurrenceError(ValueError):
    """The rule cannot recur (bad time, weekday or day of the month)."""


@dataclass(frozen=True)
class Recurrence:
    time: str = "09:00"  # local HH:MM
    weekday: int | None = None  # 0 = Monday
    month_day: int | None = None  # 1..31; months without that day are skipped

    def __post_init__(self) -> None:
        if not _HHMM.match(self.time):
            raise RecurrenceError(f"not a time of day: {self.time!r}")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise RecurrenceError(f"not a weekday number: {self.weekday!r}")
        if self.month_day is not None and not 1 <= self.month_day <= 31:
            raise RecurrenceError(f"not a day of the month: {self.month_day!r}")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Recurrence:
        """{"weekday": 4, "time": "10:00"}; the weekday may also be a name."""
        weekday = raw.get("weekday")
        if isinstance(weekday, str):
            name = weekday.strip().lower()
            if name not in WEEKDAYS:
                raise RecurrenceError(f"not a weekday: {weekday!r}")
            weekday = WEEKDAYS.index(name)
        month_day = raw.get("month_day")
        try:
            return cls(
                time=str(raw.get("time") or "09:00"),
                weekday=None if weekday is None else int(weekday),
                month_day=None if month_day is None else int(month_day),
            )
        except (TypeError, ValueError) as exc:
            raise RecurrenceError(str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": self.time}
        if self.weekday is not None:
            out["weekday"] = self.weekday
        if self.month_day is not None:
            out["month_day"] = self.month_day
        return out

    @property
    def clock(self) -> time_of_day:
        hour, minute = (int(x) for x in self.time.split(":"))
        return time_of_day(hour, minute)

    def matches(self, day: date) -> bool:
        return (self.weekday is None or day.weekday() == self.weekday) and (
            self.month_day is None or day.day == self.month_day
        )

    def describe(self) -> str:
        """ "every Friday at 10:00", "every month on day 15 at 09:00"."""
        if self.weekday is not None and self.month_day is not None:
            return (
                f"every {WEEKDAYS[self.weekday].title()} the {self.month_day}"
                f" at {self.time}"
            )
        if self.weekday is not None:
            return f"every {WEEKDAYS[self.weekday].title()} at {self.time}"
        if self.month_day is not None:
            return f"every month on day {self.month_day} at {self.time}"
        return f"every day at {self.time}"


def next_local(rule: Recurrence, after: datetime, *, inclusive: bool) -> datetime:
    """The next naive local occurrence at (inclusive) or after `after` (naive)."""
    day = after.date()
    for _ in range(_HORIZON_DAYS):
        if rule.matches(day):
            candidate = datetime.combine(day, rule.clock)
            if candidate > after or (inclusive and candidate == after):
                return candidate
        day += timedelta(days=1)
    raise RecurrenceError(f"{rule.describe()} has no occurrence")


def next_occurrence(
    rule: Recurrence | dict[str, Any],
    zone: ZoneInfo,
    after: datetime,
    *,
    inclusive: bool = False,
) -> datetime:
    """The next occurrence in `zone` after `after` (aware, or naive local), aware."""
    if isinstance(rule, dict):
        rule = Recurrence.from_dict(rule)
    local_after = after.astimezone(zone).replace(tzinfo=None) if after.tzinfo else after
    return next_local(rule, local_after, inclusive=inclusive).replace(tzinfo=zone)
