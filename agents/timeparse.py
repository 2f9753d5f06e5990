"""Find the date and time a message talks about, relative to the tenant's "now".

Regular expressions only locate the phrases ("tomorrow", "on Friday", "at 7am",
"March 15"); dateparser (maintained, locale-aware) turns the date phrase into a date
relative to now, preferring the future. Kept apart from the offline model so it can
be tested on its own and reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import dateparser

_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|"
    "november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_RE = re.compile(
    rf"""\b(
        day\ after\ tomorrow | tomorrow | today | tonight
      | (?:this\ |next\ |on\ )?(?:{_WEEKDAYS})
      | (?:on\ )?(?:the\ )?\d{{1,2}}(?:st|nd|rd|th)?\ (?:of\ )?(?:{_MONTHS})\b
      | (?:on\ )?(?:{_MONTHS})\ \d{{1,2}}(?:st|nd|rd|th)?
      | in\ \d{{1,2}}\ (?:days?|weeks?)
      | next\ week
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
_CLOCK_RE = re.compile(
    r"""\b(?:at\ |by\ |from\ |around\ )?(?:
        (?P<h12>\d{1,2})(?::(?P<m12>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)
      | (?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)
      | (?P<word>noon|midday|midnight)
    )(?![\w:])""",
    re.IGNORECASE | re.VERBOSE,
)
_PERIOD_RE = re.compile(r"\b(this|next) (month|week)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FoundTime:
    """A moment the text mentions (tenant-local, naive) and where it was found."""

    at: datetime
    has_clock: bool
    has_date: bool
    spans: tuple[tuple[int, int], ...]

    def strip_from(self, text: str) -> str:
        """The text without the time phrases (for titles)."""
        out = text
        for start, end in sorted(self.spans, reverse=True):
            out = out[:start] + out[end:]
        return re.sub(r"\s{2,}", " ", out).strip(" ,.;")

    def strip_trailing(self, text: str) -> str:
        return strip_trailing_time(text)


def _clock(match: re.Match[str]) -> time:
    word = (match.group("word") or "").lower()
    if word in ("noon", "midday"):
        return time(12, 0)
    if word == "midnight":
        return time(0, 0)
    if match.group("h24") is not None:
        return time(int(match.group("h24")), int(match.group("m24")))
    hour = int(match.group("h12"))
    minute = int(match.group("m12") or 0)
    if hour > 12 or minute > 59:
        raise ValueError("not a clock time")
    pm = match.group("ampm").lower().startswith("p")
    hour = hour % 12 + (12 if pm else 0)
    return time(hour, minute)


def _date(phrase: str, now: datetime) -> date | None:
    cleaned = re.sub(r"^(on|this)\s+", "", phrase.strip(), flags=re.IGNORECASE)
    parsed = dateparser.parse(
        cleaned,
        languages=["en"],
        settings={
            "RELATIVE_BASE": now,
            "PREFER_DATES_FROM": "future",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return parsed.date() if parsed else None


def find_time(text: str, now: datetime) -> FoundTime | None:
    """The first date and/or clock time in `text`, as a local datetime.

    A clock time without a date means today, or tomorrow once it has passed; a
    date without a clock time keeps has_clock False (the caller decides whether a
    day alone is precise enough)."""
    spans: list[tuple[int, int]] = []
    day: date | None = None
    for m in _DATE_RE.finditer(text):
        day = _date(m.group(1), now)
        if day is not None:
            spans.append(m.span())
            if m.group(1).lower() == "tonight":
                day = now.date()
            break
    clock: time | None = None
    for m in _CLOCK_RE.finditer(text):
        try:
            clock = _clock(m)
        except ValueError:
            continue
        spans.append(m.span())
        break
    if day is None and clock is None:
        return None
    if day is None:
        assert clock is not None
        candidate = datetime.combine(now.date(), clock)
        if candidate < now:
            candidate += timedelta(days=1)
        return FoundTime(candidate, True, False, tuple(spans))
    at = datetime.combine(day, clock or time(9, 0))
    return FoundTime(at, clock is not None, True, tuple(spans))


def strip_trailing_time(text: str) -> str:
    """ "Deep clean the fridge on Friday at 10pm" → "Deep clean the fridge"."""
    original = out = text.strip(" ,.;!")
    while True:
        if re.search(r"\b(to|until|till|for|is|be|moved)$", out, re.IGNORECASE):
            return original  # "moved to Saturday": the time is the news itself
        tail = None
        for pattern in (_DATE_RE, _CLOCK_RE, _PERIOD_RE):
            for m in pattern.finditer(out):
                if not out[m.end() :].strip(" ,.;!"):
                    tail = m
        if tail is None or tail.start() == 0:
            return out
        out = out[: tail.start()].strip(" ,.;!")
        out = re.sub(r"\s+(on|at|by|from|this|next)$", "", out, flags=re.I)


def find_period(text: str) -> str | None:
    """ "this month", "next week"...: a period rather than a moment."""
    m = _PERIOD_RE.search(text)
    return m.group(0).lower() if m else None
