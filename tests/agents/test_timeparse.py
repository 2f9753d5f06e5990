"""Dates and times in messages, relative to the tenant's now (Monday 09:00)."""

from __future__ import annotations

from datetime import datetime

import pytest

from agents.timeparse import find_time, strip_trailing_time

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.mark.parametrize(
    ("text", "expected", "has_clock"),
    [
        ("arriving tomorrow at 7am", "2026-03-03T07:00", True),
        ("on Friday at 10pm", "2026-03-06T22:00", True),
        ("Saturday at 9am this week", "2026-03-07T09:00", True),
        ("at 18:45", "2026-03-02T18:45", True),
        ("at 8am", "2026-03-03T08:00", True),  # 8am already passed today
        ("next Monday at noon", "2026-03-09T12:00", True),
        ("on 15 March at 2:30 p.m.", "2026-03-15T14:30", True),
        ("tomorrow", "2026-03-03T09:00", False),
    ],
)
def test_find_time(text: str, expected: str, has_clock: bool) -> None:
    found = find_time(text, NOW)
    assert found is not None
    assert found.at.strftime("%Y-%m-%dT%H:%M") == expected
    assert found.has_clock is has_clock


@pytest.mark.parametrize(
    "text", ["We ran out of lemons", "unit 4B", "keep it below 4°C", "costs $200"]
)
def test_no_time(text: str) -> None:
    assert find_time(text, NOW) is None


def test_strip_trailing_time_keeps_news_about_the_time() -> None:
    assert strip_trailing_time("Deep clean the fridge on Friday at 10pm.") == (
        "Deep clean the fridge"
    )
    assert strip_trailing_time("Cleaning is moved to Saturday at 9am") == (
        "Cleaning is moved to Saturday at 9am"
    )


@pytest.mark.parametrize(
    ("text", "expected", "has_clock"),
    [
        ("remind me in 2 hours", "2026-03-02T11:00", True),
        ("in half an hour", "2026-03-02T09:30", True),
        ("in 20 mins", "2026-03-02T09:20", True),
        ("this evening", "2026-03-02T18:00", False),
        ("tomorrow morning", "2026-03-03T09:00", False),
        ("tomorrow at half past five in the afternoon", "2026-03-03T17:30", True),
        ("at quarter to six", "2026-03-02T17:45", True),  # 05:45 has passed
        ("ten past seven in the evening", "2026-03-02T19:10", True),
        ("at 5 in the afternoon", "2026-03-02T17:00", True),
        ("at 17:30", "2026-03-02T17:30", True),
        ("tomorrow at 11", "2026-03-03T11:00", True),
        ("Friday at 3", "2026-03-06T15:00", True),  # a working hour
    ],
)
def test_relative_and_spoken_times(text: str, expected: str, has_clock: bool) -> None:
    found = find_time(text, NOW)
    assert found is not None
    assert found.at.strftime("%Y-%m-%dT%H:%M") == expected
    assert found.has_clock is has_clock


@pytest.mark.parametrize("text", ["keep it at 4 degrees", "we meet at 3 Elm Road"])
def test_numbers_after_at_that_are_not_hours(text: str) -> None:
    assert find_time(text, NOW) is None


def test_a_time_limit_is_a_deadline() -> None:
    found = find_time("the lobby needs a mop before noon", NOW)
    assert found is not None and found.deadline
    assert not find_time("the meeting is at noon", NOW).deadline  # type: ignore[union-attr]
