"""Next occurrence: one rule for seeded schedules, reminders and cancellations.

Two copies used to disagree: the seed looked 62 days ahead and raised, the
validator looked 400 days ahead and silently returned its input. These pin the
one rule both now use."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain.recurrence import (
    Recurrence,
    RecurrenceError,
    next_local,
    next_occurrence,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def test_weekly_is_strictly_after_unless_inclusive() -> None:
    friday_10 = datetime(2026, 3, 6, 10, 0)  # a Friday
    rule = Recurrence("10:00", weekday=4)
    assert next_local(rule, friday_10, inclusive=True) == friday_10
    assert next_local(rule, friday_10, inclusive=False) == datetime(2026, 3, 13, 10)


def test_month_day_31_skips_short_months() -> None:
    rule = Recurrence("09:00", month_day=31)
    assert next_local(rule, datetime(2026, 9, 1), inclusive=False) == datetime(
        2026, 10, 31, 9
    )
    # From the 31st after its clock time: the next 31st is two months away.
    assert next_local(rule, datetime(2026, 8, 31, 10), inclusive=False) == datetime(
        2026, 10, 31, 9
    )


def test_weekday_and_month_day_together_can_be_more_than_a_year_away() -> None:
    # Friday the 13th: after 2026-11-13 the next is 2027-08-13 (nine months), a
    # case the seed's copy refused and the validator's copy got only by luck.
    rule = Recurrence("09:00", weekday=4, month_day=13)
    got = next_local(rule, datetime(2026, 11, 14), inclusive=False)
    assert got == datetime(2027, 8, 13, 9)
    assert got.weekday() == 4


def test_aware_input_and_output_in_the_tenants_zone_across_dst() -> None:
    rule = Recurrence("07:00", weekday=0)  # Mondays 07:00 New York
    # Sunday 8 March 2026 is the DST change in New York.
    after = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    got = next_occurrence(rule, NEW_YORK, after)
    assert got.tzinfo is NEW_YORK
    assert got.replace(tzinfo=None) == datetime(2026, 3, 9, 7, 0)
    assert got.astimezone(UTC).hour == 11  # EDT: UTC-4 after the change


def test_dict_rules_and_weekday_names() -> None:
    assert Recurrence.from_dict({"weekday": "Friday", "time": "10:00"}) == Recurrence(
        "10:00", weekday=4
    )
    got = next_occurrence({"weekday": 4, "time": "10:00"}, LONDON, datetime(2026, 3, 2))
    assert got.replace(tzinfo=None) == datetime(2026, 3, 6, 10, 0)


@pytest.mark.parametrize(
    "raw",
    [
        {"time": "25:00"},
        {"time": "9am"},
        {"weekday": 7},
        {"weekday": "Funday"},
        {"month_day": 0},
        {"month_day": 32},
    ],
)
def test_invalid_rules_are_refused_not_guessed(raw: dict[str, object]) -> None:
    with pytest.raises(RecurrenceError):
        Recurrence.from_dict(raw)


def test_describe() -> None:
    assert Recurrence("10:00", weekday=4).describe() == "every Friday at 10:00"
    assert Recurrence("09:00", month_day=15).describe() == (
        "every month on day 15 at 09:00"
    )
