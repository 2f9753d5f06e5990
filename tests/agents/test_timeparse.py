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
