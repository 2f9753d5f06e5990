"""When a person accepts push notifications: a daily window in the organisation's
time zone ("10:00-23:00"; "22:00-07:00" wraps past midnight). Outside it nothing is
pushed; the alert waits in the inbox. No window: any time."""

from __future__ import annotations

import re
from datetime import time

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
WINDOW_CHARS = 11


def parse_window(value: str | None) -> tuple[time, time] | None:
    """ "HH:MM-HH:MM" as (start, end); None for no window; ValueError if malformed
    or empty (start == end)."""
    if value is None or not value.strip():
        return None
    m = _WINDOW.match(value.strip())
    if m is None:
        raise ValueError("push hours look like 10:00-23:00")
    start = time(int(m[1]), int(m[2]))
    end = time(int(m[3]), int(m[4]))
    if start == end:
        raise ValueError("push hours need a start and a different end")
    return start, end


def push_allowed(window: str | None, local_now: time) -> bool:
    """Whether a push may go out at this local time (a bad stored value: yes)."""
    try:
        parsed = parse_window(window)
    except ValueError:
        return True
    if parsed is None:
        return True
    start, end = parsed
    if start < end:
        return start <= local_now < end
    return local_now >= start or local_now < end


# Relayed messages ("From Luis Ortega: the walk-in is warm"): someone who chose the
# digest gets these as one summary push at most every so often, not one by one.
# News about their own requests and approvals to decide are always pushed at once.
DIGEST_KINDS = frozenset({"notify"})


def held_for_digest(kind: str, digest: bool) -> bool:
    return digest and kind in DIGEST_KINDS
