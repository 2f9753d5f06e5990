"""Push hours: a daily local window, possibly across midnight."""

from __future__ import annotations

from datetime import time

import pytest

from app.domain.push_hours import parse_window, push_allowed


@pytest.mark.parametrize(
    ("window", "at", "allowed"),
    [
        ("10:00-23:00", time(9, 59), False),
        ("10:00-23:00", time(10, 0), True),
        ("10:00-23:00", time(22, 59), True),
        ("10:00-23:00", time(23, 0), False),
        ("22:00-07:00", time(23, 30), True),
        ("22:00-07:00", time(6, 59), True),
        ("22:00-07:00", time(12, 0), False),
        (None, time(3, 0), True),
        ("garbage", time(3, 0), True),  # a bad stored value never silences push
    ],
)
def test_push_allowed(window: str | None, at: time, allowed: bool) -> None:
    assert push_allowed(window, at) is allowed


@pytest.mark.parametrize("bad", ["10-23", "25:00-01:00", "10:00-10:00", "10:00 23:00"])
def test_malformed_windows_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_window(bad)
