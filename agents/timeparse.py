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
_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve"
_NUMBER_WORDS = {w: n for n, w in enumerate(_NUMBERS.split())}
_NUM = r"\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
# "in 2 hours", "in half an hour", "in 20 mins": a moment counted from now.
_RELATIVE_RE = re.compile(
    rf"""\b(?:in|within)\ (?:
        (?P<n>{_NUM}|an?|a\ couple\ of|a\ few)\ (?P<unit>hours?|hrs?|minutes?|mins?)
      | (?P<half>half\ an?\ hour)
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
# Spoken clock times: "half past five", "quarter to six", "ten past 7", "five
# o'clock", optionally "in the afternoon/evening/morning", "at night".
_SPOKEN_RE = re.compile(
    rf"""\b(?:at\ |by\ |around\ )?(?:
        (?P<part>half|quarter|twenty|ten|five|twenty-five|\d{{1,2}})
            \ (?:minutes\ )?(?P<dir>past|after|to|before)\ (?P<hour>{_NUM})
      | (?P<oclock>{_NUM})\ o'?\s?clock
    )(?P<dayhalf>\ (?:in\ the\ (?:morning|afternoon|evening)|at\ night|tonight))?\b""",
    re.IGNORECASE | re.VERBOSE,
)
# A part of the day with no clock: "this evening", "tomorrow morning", "tonight".
_DAYPART_RE = re.compile(
    r"\b(?:this\s+|tomorrow\s+|in\s+the\s+)?(morning|afternoon|evening|tonight)\b",
    re.IGNORECASE,
)
# "at 11", "at 8": an hour with nothing after it that makes it a number of
# something ("at 4 degrees", "at 3 Elm Road").
_AT_HOUR_RE = re.compile(
    r"\bat\s+(?P<h>\d{1,2})\b(?!\s*(?:%|°|[.,:]\d|degrees?|percent|[A-Z]|"
    r"[a-z]{2,}\s+(?:road|street|lane|avenue)))",
)
_DEADLINE_RE = re.compile(r"\b(before|by|until|till|no later than)\s*$", re.IGNORECASE)
_DAYPART_CLOCK = {
    "morning": time(9, 0),
    "afternoon": time(14, 0),
    "evening": time(18, 0),
    "tonight": time(20, 0),
}
# A bare hour after "at" with a part of the day: "at 5 in the afternoon".
_BARE_HOUR_RE = re.compile(
    r"\bat\s+(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?\s+(?P<dayhalf>in\s+the\s+"
    r"(?:morning|afternoon|evening)|at\s+night|tonight)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundTime:
    """A moment the text mentions (tenant-local, naive) and where it was found."""

    at: datetime
    has_clock: bool
    has_date: bool
    spans: tuple[tuple[int, int], ...]
    # "before noon", "by 5pm": a time limit for the news, not when something is.
    deadline: bool = False

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


def _number(word: str) -> int:
    word = word.lower()
    if word.isdigit():
        return int(word)
    if word in ("a", "an"):
        return 1
    if word == "a couple of":
        return 2
    if word == "a few":
        return 3
    return _NUMBER_WORDS[word]


def _pm_hint(dayhalf: str | None, hour: int) -> int:
    """An hour of 1-12 moved into the afternoon/evening when the text says so."""
    if not dayhalf:
        return hour
    later = re.search(r"afternoon|evening|night|tonight", dayhalf, re.IGNORECASE)
    if later and hour < 12:
        return hour + 12
    if not later and hour == 12:
        return 0
    return hour


def _spoken(match: re.Match[str]) -> time:
    dayhalf = match.group("dayhalf")
    if match.group("oclock"):
        return time(_pm_hint(dayhalf, _number(match.group("oclock")) % 12 or 12), 0)
    part = match.group("part").lower()
    minutes = {"half": 30, "quarter": 15, "twenty-five": 25}.get(part)
    if minutes is None:
        minutes = _number(part)
    hour = _number(match.group("hour"))
    if not 1 <= hour <= 12 or not 0 < minutes < 60:
        raise ValueError("not a clock time")
    if match.group("dir").lower() in ("to", "before"):
        hour, minutes = hour - 1, 60 - minutes
    hour = _pm_hint(dayhalf, hour % 12 if hour != 12 else 12)
    return time(hour % 24, minutes)


def _relative(match: re.Match[str], now: datetime) -> datetime:
    if match.group("half"):
        return now + timedelta(minutes=30)
    n = _number(match.group("n"))
    unit = match.group("unit").lower()
    delta = timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n)
    return (now + delta).replace(second=0, microsecond=0)


def _find_clock(text: str) -> tuple[time, tuple[int, int], bool] | None:
    """The first clock time (digits with am/pm or 24 h, or spoken) and whether its
    half of the day was left unsaid ("half past five")."""
    for m in _BARE_HOUR_RE.finditer(text):
        hour = int(m.group("h"))
        if 1 <= hour <= 12:
            clock = time(_pm_hint(m.group("dayhalf"), hour), int(m.group("m") or 0))
            return clock, m.span(), False
    for m in _CLOCK_RE.finditer(text):
        try:
            return _clock(m), m.span(), False
        except ValueError:
            continue
    for m in _SPOKEN_RE.finditer(text):
        try:
            return _spoken(m), m.span(), not m.group("dayhalf")
        except (ValueError, KeyError):
            continue
    for m in _AT_HOUR_RE.finditer(text):
        hour = int(m.group("h"))
        if 1 <= hour <= 12:
            return time(hour % 12 or 12, 0), m.span(), True
    return None


def _resolve_half(clock: time, day: date | None, now: datetime) -> time:
    """An hour said without am/pm: the next one to come today, else a working
    hour (1-6 in the afternoon, 7-12 in the morning) on another day."""
    later = time((clock.hour + 12) % 24, clock.minute)
    if day is None or day == now.date():
        for option in (clock, later):
            if datetime.combine(now.date(), option) >= now:
                return option
    return later if 1 <= clock.hour <= 6 else clock


def find_time(text: str, now: datetime) -> FoundTime | None:
    """The first date and/or clock time in `text`, as a local datetime.

    A clock time without a date means today, or tomorrow once it has passed; a
    date without a clock time keeps has_clock False (the caller decides whether a
    day alone is precise enough). "in 2 hours" counts from now; a part of the day
    ("this evening") stands for a usual hour of it."""
    relative = _RELATIVE_RE.search(text)
    if relative is not None:
        return FoundTime(_relative(relative, now), True, True, (relative.span(),))
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
    vague = False  # a part of the day stands for an hour, but is no clock time
    found_clock = _find_clock(text)
    deadline = False
    if found_clock is not None:
        clock, span, ambiguous = found_clock
        spans.append(span)
        said = text[span[0] : span[1]].lower()
        deadline = said.startswith("by ") or bool(_DEADLINE_RE.search(text[: span[0]]))
        if ambiguous:
            clock = _resolve_half(clock, day, now)
    else:
        part = _DAYPART_RE.search(text)
        if part is not None:
            clock = _DAYPART_CLOCK[part.group(1).lower()]
            vague = True
            spans.append(part.span())
            if day is None:
                tomorrow = part.group(0).lower().startswith("tomorrow")
                day = now.date() + timedelta(days=1 if tomorrow else 0)
    if day is None and clock is None:
        return None
    if day is None:
        assert clock is not None
        candidate = datetime.combine(now.date(), clock)
        if candidate < now:
            candidate += timedelta(days=1)
        return FoundTime(candidate, True, False, tuple(spans), deadline)
    at = datetime.combine(day, clock or time(9, 0))
    has_clock = clock is not None and not vague
    return FoundTime(at, has_clock, True, tuple(spans), deadline)


_TRAILING = (
    _DATE_RE,
    _CLOCK_RE,
    _PERIOD_RE,
    _RELATIVE_RE,
    _SPOKEN_RE,
    _BARE_HOUR_RE,
    _AT_HOUR_RE,
    _DAYPART_RE,
)


def strip_trailing_time(text: str) -> str:
    """ "Deep clean the fridge on Friday at 10pm" → "Deep clean the fridge"."""
    original = out = text.strip(" ,.;!")
    while True:
        if re.search(r"\b(to|until|till|for|is|be|moved)$", out, re.IGNORECASE):
            return original  # "moved to Saturday": the time is the news itself
        tail = None
        for pattern in _TRAILING:
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
