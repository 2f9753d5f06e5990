"""An organisation's time zone: checked when it is set, read safely everywhere.

A tenant's zone is an IANA name ("Europe/London"). `parse_timezone` is the check
for anything that sets it (it refuses typos, so one cannot break every turn of a
tenant); `zone_or_utc` is how stored values are read: a value that is somehow not a
zone is read as UTC instead of failing the request or the assistant turn.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.errors import Invalid

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError, IsADirectoryError, OSError):
        return None


def parse_timezone(name: str) -> ZoneInfo:
    """The zone named `name`; Invalid with a clear message when there is none."""
    zone = _zone((name or "").strip())
    if zone is None:
        raise Invalid(
            f"Unknown time zone {name[:64]!r}: use an IANA name such as "
            "'Europe/London' or 'America/New_York'."
        )
    return zone


def zone_or_utc(name: str | None) -> ZoneInfo:
    """A stored zone name as a ZoneInfo; UTC (logged) if it is not a zone."""
    zone = _zone((name or "").strip())
    if zone is None:
        log.warning("unknown tenant time zone; using UTC", extra={"tz": name})
        return UTC_ZONE
    return zone
